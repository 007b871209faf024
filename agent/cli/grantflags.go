package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"mcpauth/agent"
)

// maxKeyFile bounds --client-key-file: a PEM private key is a few KB.
const maxKeyFile = 64 << 10

// grantFlags are the flags of `mcpauth add` (and `connect URL`) for grants
// other than the browser login: client credentials and cross-app access.
type grantFlags struct {
	clientCredentials                  *bool
	keyFile, keyAlg                    *string
	idpIssuer, idpTokenEndpoint, idpID *string
	idpSecretEnv, idpIDTokenEnv        *string
}

func defineGrantFlags(fs *flag.FlagSet) *grantFlags {
	g := &grantFlags{}
	g.clientCredentials = fs.Bool("client-credentials", false, "get tokens with the client credentials grant (a machine identity,\nno browser): needs --client-id and --client-secret-env or --client-key-file")
	g.keyFile = fs.String("client-key-file", "", "authenticate the client with private_key_jwt, signed with the PEM\nprivate key in `FILE` (stored in the keychain; the file is not kept)")
	g.keyAlg = fs.String("client-key-alg", "", "the JWS `ALG` for --client-key-file: RS256, PS256, ES256, ES384,\nEdDSA...; default: the key's usual one (RS256, ES256...)")
	g.idpIssuer = fs.String("idp-issuer", "", "cross-app access: get tokens with an ID token from the enterprise\nIdP whose issuer is `URL` (needs --idp-client-id, --client-id and\nthe client's secret or key)")
	g.idpID = fs.String("idp-client-id", "", "cross-app access: mcpauth's client `ID` at the IdP")
	g.idpSecretEnv = fs.String("idp-client-secret-env", "", "cross-app access: read the IdP client's secret from `VAR`")
	g.idpTokenEndpoint = fs.String("idp-token-endpoint", "", "cross-app access: the IdP's token endpoint `URL`, if it can't be\ndiscovered from the issuer")
	g.idpIDTokenEnv = fs.String("idp-id-token-env", "", "cross-app access: read an ID token from `VAR` (from an SSO tool),\nused until it expires; without it, `mcpauth login` signs in at the IdP")
	return g
}

// apply checks the flags and puts them in req.
func (g *grantFlags) apply(r *runner, req *agent.AddRequest) error {
	req.ClientCredentials = *g.clientCredentials
	if *g.keyFile != "" {
		key, err := readKeyFile(*g.keyFile)
		if err != nil {
			return err
		}
		req.ClientKey = key
	}
	req.ClientKeyAlg = *g.keyAlg
	if req.ClientKeyAlg != "" && req.ClientKey == "" {
		return usagef("--client-key-alg needs --client-key-file")
	}
	if (req.ClientCredentials || *g.keyFile != "") && req.ClientID == "" {
		return usagef("--client-credentials and --client-key-file need --client-id: the client registered at the authorization server")
	}
	if req.ClientCredentials && req.ClientSecret == "" && req.ClientKey == "" {
		return usagef("--client-credentials needs the client's secret (--client-secret-env VAR) or private key (--client-key-file FILE)")
	}
	if *g.idpIssuer == "" {
		if *g.idpID != "" || *g.idpSecretEnv != "" || *g.idpTokenEndpoint != "" || *g.idpIDTokenEnv != "" {
			return usagef("the --idp-* flags need --idp-issuer")
		}
		return nil
	}
	if err := validateURL("--idp-issuer", *g.idpIssuer, req.AllowHTTP); err != nil {
		return err
	}
	if *g.idpTokenEndpoint != "" {
		if err := validateURL("--idp-token-endpoint", *g.idpTokenEndpoint, req.AllowHTTP); err != nil {
			return err
		}
	}
	if *g.idpID == "" || req.ClientID == "" {
		return usagef("cross-app access needs --idp-client-id (mcpauth's client at the IdP) and --client-id (its client at the server's authorization server)")
	}
	x := &agent.CrossAppRequest{IdPIssuer: *g.idpIssuer, IdPTokenEndpoint: *g.idpTokenEndpoint, IdPClientID: *g.idpID}
	var err error
	if x.IdPClientSecret, err = envSecret(r, "--idp-client-secret-env", *g.idpSecretEnv); err != nil {
		return err
	}
	if x.IDToken, err = envSecret(r, "--idp-id-token-env", *g.idpIDTokenEnv); err != nil {
		return err
	}
	req.CrossApp = x
	return nil
}

// envSecret reads the secret in the environment variable name, if a flag
// gave one.
func envSecret(r *runner, flagName, name string) (string, error) {
	if name == "" {
		return "", nil
	}
	v := r.env.Getenv(name)
	if v == "" {
		return "", usagef("%s %s: $%s is unset or empty", flagName, name, name)
	}
	return v, nil
}

// readKeyFile reads a PEM private key. The key is checked by the agent;
// errors here never quote the file's content.
func readKeyFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", usagef("--client-key-file: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return "", fmt.Errorf("could not read %s: %w", path, err)
	}
	if len(data) > maxKeyFile {
		return "", usagef("--client-key-file %s is larger than a private key can be", path)
	}
	return string(data), nil
}

// secretFlags are flags mcpauth refuses, because they would put a secret
// on the command line, with what to use instead.
var secretFlags = map[string]string{
	"client-secret":     "--client-secret-env VAR",
	"client-key":        "--client-key-file FILE",
	"idp-client-secret": "--idp-client-secret-env VAR",
	"idp-id-token":      "--idp-id-token-env VAR",
}

// deviceMessage tells the user how to approve a device flow sign-in
// (RFC 8628 §3.3).
func deviceMessage(dc agent.DeviceCode, now time.Time) string {
	msg := fmt.Sprintf("To sign in to %s, open this URL on any device:\n  %s\nand enter the code:\n  %s\n",
		dc.Server, dc.VerificationURI, dc.UserCode)
	if dc.VerificationURIComplete != "" {
		msg += fmt.Sprintf("(or open %s, which holds the code)\n", dc.VerificationURIComplete)
	}
	if left := dc.Expiry.Sub(now).Round(time.Minute); left >= time.Minute {
		msg += fmt.Sprintf("The code expires in %d minutes. ", int(left.Minutes()))
	}
	return msg + "Waiting for the sign-in to be approved (Ctrl-C to cancel)..."
}
