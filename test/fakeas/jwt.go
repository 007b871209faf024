package fakeas

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"math/big"
	"strings"
	"time"
)

// The JWTs the fake verifies (private_key_jwt client assertions, ID-JAGs)
// and signs (ID-JAGs and ID tokens, with its own P-256 key), with the
// standard library: RFC 7515 compact serialization, RFC 7518 algorithms.

// verifyJWT checks a compact JWS's signature with key and its exp (with a
// minute of leeway), and returns its header and claims.
func verifyJWT(token string, key crypto.PublicKey) (header, claims map[string]any, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, errors.New("not a compact JWS")
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, nil, err
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return nil, nil, err
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, nil, errors.New("bad signature encoding")
	}
	alg, _ := header["alg"].(string)
	if err := verifySignature(alg, []byte(parts[0]+"."+parts[1]), sig, key); err != nil {
		return nil, nil, err
	}
	exp, ok := claims["exp"].(float64)
	if !ok || time.Now().After(time.Unix(int64(exp), 0).Add(time.Minute)) {
		return nil, nil, errors.New("expired or without exp")
	}
	return header, claims, nil
}

func decodeSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return errors.New("bad base64url")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errors.New("bad JSON")
	}
	return nil
}

func verifySignature(alg string, input, sig []byte, key crypto.PublicKey) error {
	if alg == "EdDSA" {
		k, ok := key.(ed25519.PublicKey)
		if !ok || !ed25519.Verify(k, input, sig) {
			return errors.New("bad EdDSA signature")
		}
		return nil
	}
	var (
		h  hash.Hash
		ch crypto.Hash
	)
	switch {
	case strings.HasSuffix(alg, "256"):
		h, ch = sha256.New(), crypto.SHA256
	case strings.HasSuffix(alg, "384"):
		h, ch = sha512.New384(), crypto.SHA384
	case strings.HasSuffix(alg, "512"):
		h, ch = sha512.New(), crypto.SHA512
	default:
		return errors.New("unsupported alg " + alg)
	}
	h.Write(input)
	digest := h.Sum(nil)
	switch k := key.(type) {
	case *rsa.PublicKey:
		switch alg[:2] {
		case "RS":
			return rsa.VerifyPKCS1v15(k, ch, digest, sig)
		case "PS":
			return rsa.VerifyPSS(k, ch, digest, sig, nil)
		}
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		if alg[:2] != "ES" || len(sig) != 2*size {
			return errors.New("bad ECDSA signature")
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		if !ecdsa.Verify(k, digest, r, s) {
			return errors.New("bad ECDSA signature")
		}
		return nil
	}
	return errors.New("alg " + alg + " does not fit the key")
}

// signES256 signs claims with key (RFC 7518 §3.4) under the header typ.
func signES256(key *ecdsa.PrivateKey, typ string, claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": typ})
	c, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		panic(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}
