package e2e

import (
	"strings"
	"testing"

	"mcpauth/test/oidc"
)

// The benchmarks time whole mcpauth processes against oidc-provider and the
// real keychain, the way a user or a host app runs them. Gated like the
// tests; run them with
//
//	... MCPAUTH_E2E=1 go test -run='^$' -bench=. -benchtime=20x ./test/e2e

// BenchmarkColdLogin times `mcpauth login` in a fresh MCPAUTH_HOME: PRM and
// AS metadata discovery, dynamic client registration, the fake browser's
// round trip through the authorization endpoint, the code exchange and the
// keychain writes. `mcpauth add` runs untimed.
func BenchmarkColdLogin(b *testing.B) {
	requireE2E(b)
	as := oidc.Start(b, oidc.Options{})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := newSession(b, as)
		s.mustRun("add", "oidc", as.MCPURL)
		b.StartTimer()
		r := s.run("login", "oidc")
		b.StopTimer()
		if r.code != 0 {
			b.Fatalf("%s", s.describe(r, "want exit 0"))
		}
		s.clearKeychain() // so that the keyring doesn't grow from one iteration to the next
		b.StartTimer()
	}
	b.StopTimer()
	if st := as.Stats(b); st.Registrations != st.CodeExchanges || st.CodeExchanges < b.N {
		b.Fatalf("AS stats %+v after %d cold logins: want one registration and one code exchange each", st, b.N)
	}
}

// BenchmarkTokenWarm times `mcpauth token` when a valid token is held (one
// hour TTL, so no refresh): the process start, the keychain read and the
// print. "in-process" runs the agent code inside the command; "agent" asks
// a running `mcpauth agent` over its control socket. "version-baseline" is
// `mcpauth version` with no agent: the cost of starting the process at all.
func BenchmarkTokenWarm(b *testing.B) {
	requireE2E(b)
	as := oidc.Start(b, oidc.Options{})
	b.Run("version-baseline", func(b *testing.B) {
		s := newSession(b, as)
		for i := 0; i < b.N; i++ {
			s.mustRun("version")
		}
	})
	for _, withAgent := range []bool{false, true} {
		name := "in-process"
		if withAgent {
			name = "agent"
		}
		b.Run(name, func(b *testing.B) {
			s := newSession(b, as)
			var a *agentProc
			if withAgent {
				a = startAgent(b, s)
			}
			s.mustRun("add", "oidc", as.MCPURL)
			s.mustRun("login", "oidc")
			want := s.token("oidc")
			before := as.Stats(b).Refreshes
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := s.startToken("oidc").wait()
				if r.code != 0 || strings.TrimSpace(r.stdout) != want {
					b.Fatalf("%s", s.describe(r, "want exit 0 and the held token"))
				}
			}
			b.StopTimer()
			if n := as.Stats(b).Refreshes - before; n != 0 {
				b.Errorf("%d refreshes during warm token calls, want 0", n)
			}
			if a != nil {
				a.stop(b)
			}
		})
	}
}
