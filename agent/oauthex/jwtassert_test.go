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
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// testRSAKey is generated once: 2048-bit generation is slow under -race.
func testRSAKey(t *testing.T) *rsa.PrivateKey {
	rsaOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		rsaKey = k
	})
	return rsaKey
}

func pkcs8PEM(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func ecKey(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// verifyJWS checks a compact JWS with pub, independently of Signer.
func verifyJWS(t *testing.T, jws string, pub crypto.PublicKey) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %d parts", len(parts))
	}
	dec := func(s string, v any) {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("bad base64url: %v", err)
		}
		if v != nil {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatalf("bad JSON: %v", err)
			}
		}
	}
	dec(parts[0], &header)
	dec(parts[1], &claims)
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	input := []byte(parts[0] + "." + parts[1])
	alg, _ := header["alg"].(string)
	if alg == "EdDSA" {
		if !ed25519.Verify(pub.(ed25519.PublicKey), input, sig) {
			t.Fatal("EdDSA signature does not verify")
		}
		return header, claims
	}
	hash, _ := algHash(alg)
	h := hash.New()
	h.Write(input)
	digest := h.Sum(nil)
	var err error
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if strings.HasPrefix(alg, "PS") {
			err = rsa.VerifyPSS(k, hash, digest, sig, nil)
		} else {
			err = rsa.VerifyPKCS1v15(k, hash, digest, sig)
		}
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			t.Fatalf("%s signature is %d bytes, want %d", alg, len(sig), 2*size)
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		if !ecdsa.Verify(k, digest, r, s) {
			err = fmt.Errorf("ECDSA signature does not verify")
		}
	}
	if err != nil {
		t.Fatalf("%s signature: %v", alg, err)
	}
	return header, claims
}

func TestSignerAlgorithms(t *testing.T) {
	rk := testRSAKey(t)
	e256, e384, e521 := ecKey(t, elliptic.P256()), ecKey(t, elliptic.P384()), ecKey(t, elliptic.P521())
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(e256)
	tests := []struct {
		name    string
		pem     []byte
		alg     string
		wantAlg string
		pub     crypto.PublicKey
	}{
		{"RSA default", pkcs8PEM(t, rk), "", "RS256", &rk.PublicKey},
		{"RSA PKCS1 RS384", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}), "RS384", "RS384", &rk.PublicKey},
		{"RSA RS512", pkcs8PEM(t, rk), "RS512", "RS512", &rk.PublicKey},
		{"RSA PS256", pkcs8PEM(t, rk), "PS256", "PS256", &rk.PublicKey},
		{"P-256 default", pkcs8PEM(t, e256), "", "ES256", &e256.PublicKey},
		{"P-256 SEC1", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), "ES256", "ES256", &e256.PublicKey},
		{"P-384", pkcs8PEM(t, e384), "", "ES384", &e384.PublicKey},
		{"P-521", pkcs8PEM(t, e521), "ES512", "ES512", &e521.PublicKey},
		{"Ed25519", pkcs8PEM(t, ed), "", "EdDSA", ed.Public()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSigner(tt.pem, tt.alg)
			if err != nil {
				t.Fatal(err)
			}
			if s.Alg() != tt.wantAlg {
				t.Errorf("Alg = %s, want %s", s.Alg(), tt.wantAlg)
			}
			before := time.Now().Unix()
			jws, err := s.ClientAssertion("client-1", "https://as.example/")
			if err != nil {
				t.Fatal(err)
			}
			header, claims := verifyJWS(t, jws, tt.pub)
			if header["alg"] != tt.wantAlg {
				t.Errorf("header alg = %v", header["alg"])
			}
			for k, want := range map[string]any{"iss": "client-1", "sub": "client-1", "aud": "https://as.example/"} {
				if claims[k] != want {
					t.Errorf("claim %s = %v, want %v", k, claims[k], want)
				}
			}
			iat, _ := claims["iat"].(float64)
			exp, _ := claims["exp"].(float64)
			if int64(iat) < before || exp-iat != assertionLifetime.Seconds() {
				t.Errorf("iat %v, exp %v: want now and now+%v", iat, exp, assertionLifetime)
			}
			if jti, _ := claims["jti"].(string); len(jti) < 16 {
				t.Errorf("jti %q is not random enough", jti)
			}
			if strings.Contains(fmt.Sprint(s), "PRIVATE") || !strings.Contains(fmt.Sprintf("%#v", s), redacted) {
				t.Errorf("Signer formats as %v / %#v: want the key redacted", s, s)
			}
		})
	}
}

func TestParseSignerErrors(t *testing.T) {
	rk := testRSAKey(t)
	e256 := ecKey(t, elliptic.P256())
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	garbage := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("not DER, secret-ish bytes")})
	tests := []struct {
		name, alg, want string
		pem             []byte
	}{
		{"not PEM", "", "not PEM", []byte("secret-ish text")},
		{"encrypted", "", "encrypted", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}})},
		{"certificate", "", "unsupported PEM block", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})},
		{"bad DER", "", "could not parse", garbage},
		{"RSA with ES256", "ES256", "does not fit", pkcs8PEM(t, rk)},
		{"EC with RS256", "RS256", "does not fit", pkcs8PEM(t, e256)},
		{"P-256 with ES384", "ES384", "does not fit", pkcs8PEM(t, e256)},
		{"unknown alg", "HS256", "does not fit", pkcs8PEM(t, rk)},
		{"RS999", "RS999", "unsupported signing algorithm", pkcs8PEM(t, rk)},
		{"short RSA", "", "2048", pkcs8PEM(t, small)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSigner(tt.pem, tt.alg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret-ish") {
				t.Errorf("the error quotes the key material: %v", err)
			}
		})
	}
}

// TestTokenRequestPrivateKeyJWT: the assertion goes in the form (RFC 7523
// §2.2), signed for the configured audience, else the endpoint; no secret
// and no Authorization header.
func TestTokenRequestPrivateKeyJWT(t *testing.T) {
	k := ecKey(t, elliptic.P256())
	s, err := ParseSigner(pkcs8PEM(t, k), "ES256")
	if err != nil {
		t.Fatal(err)
	}
	for _, aud := range []string{"https://issuer.example", ""} {
		t.Run("aud="+aud, func(t *testing.T) {
			var endpoint string
			srv := formServer(t, func(r *http.Request, form url.Values) {
				if h := r.Header.Get("Authorization"); h != "" {
					t.Errorf("Authorization header sent with private_key_jwt")
				}
				if form.Get("client_assertion_type") != ClientAssertionTypeJWT || form.Get("client_id") != "c1" || form.Has("client_secret") {
					t.Errorf("form = %v", form)
				}
				_, claims := verifyJWS(t, form.Get("client_assertion"), &k.PublicKey)
				want := aud
				if want == "" {
					want = endpoint
				}
				if claims["aud"] != want {
					t.Errorf("aud = %v, want %s", claims["aud"], want)
				}
			}, 200, "application/json", `{"access_token":"at","token_type":"Bearer"}`)
			endpoint = srv.URL + "/token"
			auth := ClientAuth{ClientID: "c1", Method: AuthMethodPrivateKeyJWT, Signer: s, Audience: aud}
			if _, err := ClientCredentials(t.Context(), srv.Client(), endpoint, auth, nil, "", nil); err != nil {
				t.Fatal(err)
			}
		})
	}
	_, err = ClientCredentials(t.Context(), nil, "http://127.0.0.1:1/token", ClientAuth{ClientID: "c", Method: AuthMethodPrivateKeyJWT}, nil, "", nil)
	if err == nil || !strings.Contains(err.Error(), "needs a private key") {
		t.Errorf("without a signer: err = %v", err)
	}
}

func TestUnverifiedExpiry(t *testing.T) {
	enc := func(claims string) string {
		return "e30." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".sig"
	}
	tests := []struct {
		name string
		jwt  string
		want int64
		ok   bool
	}{
		{"exp", enc(`{"exp":1800000000}`), 1800000000, true},
		{"no exp", enc(`{"sub":"x"}`), 0, false},
		{"string exp", enc(`{"exp":"soon"}`), 0, false},
		{"two parts", "a.b", 0, false},
		{"bad base64", "a.!!!.c", 0, false},
		{"not an object", enc(`[1]`), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := UnverifiedExpiry(tt.jwt)
			if ok != tt.ok || (ok && got.Unix() != tt.want) {
				t.Errorf("UnverifiedExpiry = %v, %v; want %d, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzUnverifiedClaims(f *testing.F) {
	f.Add("e30.eyJleHAiOjE4MDAwMDAwMDB9.sig")
	f.Add("..")
	f.Add("a.!!.c")
	f.Fuzz(func(t *testing.T, jwt string) {
		claims, err := UnverifiedClaims(jwt)
		if err == nil && claims == nil {
			t.Error("nil claims without an error")
		}
		UnverifiedExpiry(jwt)
	})
}
