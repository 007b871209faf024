package oauthex

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// AuthMethodPrivateKeyJWT authenticates the client with a JWT it signs with
// its own private key (OpenID Connect Core §9, RFC 7523 §2.2).
const AuthMethodPrivateKeyJWT = "private_key_jwt"

// ClientAssertionTypeJWT is the client_assertion_type of a JWT client
// assertion (RFC 7523 §2.2).
const ClientAssertionTypeJWT = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionLifetime is how long a client assertion is valid. RFC 7523 §3
// only asks for an exp; a short one limits a replay, and the jti makes the
// AS refuse a second use anyway.
const assertionLifetime = 5 * time.Minute

// SigningAlgs lists the JWS algorithms (RFC 7518 §3.1) a Signer supports.
var SigningAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Signer signs JWTs (RFC 7515 compact serialization) with a private key.
// It holds a secret: String, GoString and LogValue show only the algorithm.
// A Signer is safe for concurrent use.
//
// It is ours rather than a JWT library's because a client only ever signs
// two small kinds of JWT (client assertions here, nothing else), and the
// standard library has every primitive: RFC 7518 fixes the encodings.
type Signer struct {
	key crypto.Signer
	alg string
}

// ParseSigner reads a PEM private key (PKCS #8 "PRIVATE KEY", PKCS #1 "RSA
// PRIVATE KEY" or SEC 1 "EC PRIVATE KEY") for alg. An empty alg picks the
// key's usual one: RS256 for RSA, ES256/ES384/ES512 for P-256/P-384/P-521,
// EdDSA for Ed25519. Errors never quote the key.
func ParseSigner(pemData []byte, alg string) (*Signer, error) {
	key, err := parsePrivateKey(pemData)
	if err != nil {
		return nil, err
	}
	if alg == "" {
		alg = defaultAlg(key)
	}
	if err := checkAlg(key, alg); err != nil {
		return nil, err
	}
	return &Signer{key: key, alg: alg}, nil
}

func parsePrivateKey(pemData []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(pemData)
	if block == nil {
		return nil, errors.New("the private key is not PEM: it must start with -----BEGIN PRIVATE KEY-----")
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" {
		return nil, errors.New("the private key is encrypted: decrypt it first (openssl pkcs8 -topk8 -nocrypt -in KEY)")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("unsupported PEM block %q: use a PKCS #8 PRIVATE KEY", sanitizeText(block.Type, 40))
	}
	if err != nil {
		// x509's messages describe the structure, never the key bytes.
		return nil, fmt.Errorf("could not parse the private key: %v", err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", key)
	}
	return s, nil
}

func defaultAlg(key crypto.Signer) string {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P384():
			return "ES384"
		case elliptic.P521():
			return "ES512"
		}
		return "ES256"
	case ed25519.PrivateKey:
		return "EdDSA"
	}
	return "RS256"
}

// checkAlg refuses an algorithm the key can't make (RFC 7518 §3.1).
func checkAlg(key crypto.Signer, alg string) error {
	mismatch := func(kind string) error {
		return fmt.Errorf("signing algorithm %s does not fit a %s key", alg, kind)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if !strings.HasPrefix(alg, "RS") && !strings.HasPrefix(alg, "PS") {
			return mismatch("RSA")
		}
		if k.N.BitLen() < 2048 {
			return errors.New("the RSA key is shorter than 2048 bits, which RFC 7518 §3.3 forbids")
		}
	case *ecdsa.PrivateKey:
		want := map[elliptic.Curve]string{elliptic.P256(): "ES256", elliptic.P384(): "ES384", elliptic.P521(): "ES512"}[k.Curve]
		if want == "" {
			return errors.New("unsupported elliptic curve: use P-256, P-384 or P-521")
		}
		if alg != want {
			return mismatch(k.Curve.Params().Name + " (" + want + ")")
		}
	case ed25519.PrivateKey:
		if alg != "EdDSA" {
			return mismatch("Ed25519 (EdDSA)")
		}
	default:
		return fmt.Errorf("unsupported private key type %T", key)
	}
	if _, ok := algHash(alg); !ok && alg != "EdDSA" {
		return fmt.Errorf("unsupported signing algorithm %q: use one of %s", sanitizeText(alg, 20), strings.Join(SigningAlgs, ", "))
	}
	return nil
}

func algHash(alg string) (crypto.Hash, bool) {
	if len(alg) != 5 {
		return 0, false
	}
	switch alg[2:] {
	case "256":
		return crypto.SHA256, true
	case "384":
		return crypto.SHA384, true
	case "512":
		return crypto.SHA512, true
	}
	return 0, false
}

// Alg is the JWS algorithm the signer uses.
func (s *Signer) Alg() string { return s.alg }

func (s *Signer) String() string   { return "Signer{" + s.alg + ", key: " + redacted + "}" }
func (s *Signer) GoString() string { return s.String() }

// LogValue keeps the key out of slog output.
func (s *Signer) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Sign returns the compact JWS of claims with the header {"alg", "typ"}.
func (s *Signer) Sign(typ string, claims map[string]any) (string, error) {
	header := map[string]string{"alg": s.alg}
	if typ != "" {
		header["typ"] = typ
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64(h) + "." + b64(c)
	sig, err := s.signature([]byte(input))
	if err != nil {
		return "", fmt.Errorf("could not sign the JWT: %w", err)
	}
	return input + "." + b64(sig), nil
}

// signature computes the JWS signature (RFC 7518 §3.3-§3.5, RFC 8037 §3.1).
func (s *Signer) signature(input []byte) ([]byte, error) {
	if k, ok := s.key.(ed25519.PrivateKey); ok {
		return ed25519.Sign(k, input), nil
	}
	hash, _ := algHash(s.alg)
	h := hash.New()
	h.Write(input)
	digest := h.Sum(nil)
	switch k := s.key.(type) {
	case *rsa.PrivateKey:
		if strings.HasPrefix(s.alg, "PS") {
			return rsa.SignPSS(rand.Reader, k, hash, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		return rsa.SignPKCS1v15(rand.Reader, k, hash, digest)
	case *ecdsa.PrivateKey:
		// §3.4: R and S as fixed-size big-endian integers, not ASN.1.
		r, ss, err := ecdsa.Sign(rand.Reader, k, digest)
		if err != nil {
			return nil, err
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		ss.FillBytes(out[size:])
		return out, nil
	}
	return nil, fmt.Errorf("unsupported private key type %T", s.key)
}

// ClientAssertion returns a private_key_jwt client assertion (RFC 7523 §2.2
// and §3): iss and sub are the client ID, aud the authorization server, and
// a random jti makes it single-use. audience should be the AS's issuer
// identifier, which every AS accepts (draft-ietf-oauth-rfc7523bis makes it
// the only value); the token endpoint URL serves when the issuer is
// unknown. iat and exp use the real clock: they are for the AS's.
func (s *Signer) ClientAssertion(clientID, audience string) (string, error) {
	now := time.Now()
	return s.Sign("JWT", map[string]any{
		"iss": clientID,
		"sub": clientID,
		"aud": audience,
		"iat": now.Unix(),
		"exp": now.Add(assertionLifetime).Unix(),
		"jti": rand.Text(),
	})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// UnverifiedClaims decodes a JWT's claims without checking its signature.
// A client holding a token it got from the issuer directly uses it to read
// the token's expiry, never to trust its content.
func UnverifiedClaims(jwt string) (map[string]any, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT (want three dot-separated parts)")
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("the JWT's claims are not base64url")
	}
	var claims map[string]any
	if err := json.Unmarshal(data, &claims); err != nil || claims == nil {
		return nil, errors.New("the JWT's claims are not a JSON object")
	}
	return claims, nil
}

// UnverifiedExpiry returns a JWT's exp claim, or false if it has none.
func UnverifiedExpiry(jwt string) (time.Time, bool) {
	claims, err := UnverifiedClaims(jwt)
	if err != nil {
		return time.Time{}, false
	}
	exp, ok := claims["exp"].(float64)
	if !ok || exp <= 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(exp), 0), true
}
