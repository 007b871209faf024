package fakeas

import (
	"net/http"
	"strings"
	"testing"
)

func TestLayoutsServeMetadataWhereDocumented(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		metaPath   string // relative to base; "" = no metadata
		issuerPath string
		notFound   []string
		prmPath    string // "" = no PRM
		challenge  []string
		noInChal   []string
	}{
		{
			name: "path", cfg: Config{}, metaPath: "/.well-known/oauth-authorization-server/tenant", issuerPath: "/tenant",
			notFound:  []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration/tenant", "/.well-known/oauth-protected-resource"},
			prmPath:   "/.well-known/oauth-protected-resource/mcp",
			challenge: []string{`resource_metadata="BASE/.well-known/oauth-protected-resource/mcp"`},
			noInChal:  []string{"scope="},
		},
		{
			name: "root", cfg: Config{Layout: LayoutRoot, ChallengeScope: "mcp"}, metaPath: "/.well-known/oauth-authorization-server",
			notFound:  []string{"/.well-known/openid-configuration"},
			prmPath:   "/.well-known/oauth-protected-resource/mcp",
			challenge: []string{`scope="mcp"`, "resource_metadata="},
		},
		{
			name: "oidc insert", cfg: Config{Layout: LayoutOIDC}, metaPath: "/.well-known/openid-configuration/tenant", issuerPath: "/tenant",
			notFound: []string{"/.well-known/oauth-authorization-server/tenant", "/tenant/.well-known/openid-configuration"},
			prmPath:  "/.well-known/oauth-protected-resource/mcp",
		},
		{
			name: "oidc append", cfg: Config{Layout: LayoutOIDC, OIDCPathAppend: true}, metaPath: "/tenant/.well-known/openid-configuration", issuerPath: "/tenant",
			notFound: []string{"/.well-known/openid-configuration/tenant"},
			prmPath:  "/.well-known/oauth-protected-resource/mcp",
		},
		{
			name: "oidc without path", cfg: Config{Layout: LayoutOIDC, IssuerPath: "/"}, metaPath: "/.well-known/openid-configuration",
			prmPath: "/.well-known/oauth-protected-resource/mcp",
		},
		{
			name: "legacy", cfg: Config{Layout: LayoutLegacy}, metaPath: "/.well-known/oauth-authorization-server", issuerPath: "/tenant",
			notFound: []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"},
			noInChal: []string{"resource_metadata"},
		},
		{
			name: "legacy-nometa", cfg: Config{Layout: LayoutLegacyNoMeta},
			notFound: []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration", "/.well-known/oauth-protected-resource/mcp"},
			noInChal: []string{"resource_metadata"},
		},
		{
			name: "PRM at root, not in challenge", cfg: Config{PRMAtRoot: true, ChallengeWithoutMetadata: true},
			metaPath: "/.well-known/oauth-authorization-server/tenant", issuerPath: "/tenant",
			notFound: []string{"/.well-known/oauth-protected-resource/mcp"},
			prmPath:  "/.well-known/oauth-protected-resource",
			noInChal: []string{"resource_metadata"},
		},
		{
			name: "PRM in header only", cfg: Config{PRMInHeaderOnly: true},
			metaPath: "/.well-known/oauth-authorization-server/tenant", issuerPath: "/tenant",
			notFound:  []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"},
			prmPath:   "/prm/mcp-resource-metadata",
			challenge: []string{`resource_metadata="BASE/prm/mcp-resource-metadata"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, tt.cfg)
			base := s.BaseURL()
			if got, want := s.Issuer(), base+tt.issuerPath; got != want {
				t.Errorf("Issuer() = %q, want %q", got, want)
			}
			if tt.metaPath != "" {
				status, md := getJSON(t, base+tt.metaPath)
				if status != http.StatusOK || md["issuer"] != s.Issuer() {
					t.Errorf("GET %s: status %d, issuer %v; want 200, %s", tt.metaPath, status, md["issuer"], s.Issuer())
				}
				if md["token_endpoint"] != s.Issuer()+"/token" {
					t.Errorf("token_endpoint = %v", md["token_endpoint"])
				}
				if got := s.MetadataURL(); got != base+tt.metaPath {
					t.Errorf("MetadataURL() = %q, want %q", got, base+tt.metaPath)
				}
			}
			for _, p := range tt.notFound {
				if status, _ := getJSON(t, base+p); status != http.StatusNotFound {
					t.Errorf("GET %s: status %d, want 404", p, status)
				}
			}
			if tt.prmPath != "" {
				status, prm := getJSON(t, base+tt.prmPath)
				if status != http.StatusOK || prm["resource"] != s.URL() {
					t.Errorf("GET %s: status %d, resource %v", tt.prmPath, status, prm["resource"])
				}
				if as, _ := prm["authorization_servers"].([]any); len(as) != 1 || as[0] != s.Issuer() {
					t.Errorf("authorization_servers = %v", prm["authorization_servers"])
				}
			}
			resp, _ := mcpPost(t, s, "", "", initializeMsg)
			chal := resp.Header.Get("WWW-Authenticate")
			if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(chal, "Bearer") {
				t.Fatalf("unauthenticated MCP request: %d %q", resp.StatusCode, chal)
			}
			for _, want := range tt.challenge {
				if want = strings.ReplaceAll(want, "BASE", base); !strings.Contains(chal, want) {
					t.Errorf("challenge %q lacks %q", chal, want)
				}
			}
			for _, no := range tt.noInChal {
				if strings.Contains(chal, no) {
					t.Errorf("challenge %q has %q", chal, no)
				}
			}
		})
	}
}

func TestLegacyNoMetaEndpointsAtOrigin(t *testing.T) {
	s := start(t, Config{Layout: LayoutLegacyNoMeta})
	c := register(t, s, AuthNone)
	if !strings.HasPrefix(s.Issuer()+"/register", s.BaseURL()+"/register") {
		t.Fatalf("issuer %q is not the origin", s.Issuer())
	}
	tok := login(t, s, c, "")
	if tok["scope"] != "mcp" {
		t.Errorf("scope = %v, want the default mcp", tok["scope"])
	}
	if q := s.LastAuthorizeQuery(); q.Get("client_id") != c.id {
		t.Errorf("LastAuthorizeQuery client_id = %q", q.Get("client_id"))
	}
}

func TestMetadataSwitches(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		check func(t *testing.T, s *Server, md map[string]any)
	}{
		{"defaults", Config{}, func(t *testing.T, s *Server, md map[string]any) {
			if md["registration_endpoint"] != s.Issuer()+"/register" || md["authorization_response_iss_parameter_supported"] != true {
				t.Errorf("metadata %v", md)
			}
			if m, _ := md["code_challenge_methods_supported"].([]any); len(m) != 1 || m[0] != "S256" {
				t.Errorf("code_challenge_methods_supported = %v", md["code_challenge_methods_supported"])
			}
			if _, has := md["client_id_metadata_document_supported"]; has {
				t.Error("CIMD advertised by default")
			}
		}},
		{"wrong issuer", Config{WrongIssuer: true}, func(t *testing.T, s *Server, md map[string]any) {
			if md["issuer"] == s.Issuer() {
				t.Errorf("issuer = %v, want a wrong one", md["issuer"])
			}
		}},
		{"wrong issuer, legacy", Config{Layout: LayoutLegacy, WrongIssuer: true}, func(t *testing.T, s *Server, md map[string]any) {
			if iss, _ := md["issuer"].(string); strings.HasPrefix(iss, s.BaseURL()) {
				t.Errorf("issuer = %v, want one on another origin", iss)
			}
		}},
		{"no PKCE, no DCR, no iss, CIMD", Config{NoPKCE: true, NoDCR: true, IssParam: IssNone, CIMD: true}, func(t *testing.T, s *Server, md map[string]any) {
			for _, k := range []string{"code_challenge_methods_supported", "registration_endpoint", "authorization_response_iss_parameter_supported"} {
				if _, has := md[k]; has {
					t.Errorf("%s advertised", k)
				}
			}
			if md["client_id_metadata_document_supported"] != true {
				t.Error("CIMD not advertised")
			}
			resp, err := http.Post(s.Issuer()+"/register", "application/json", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("register with NoDCR: %d", resp.StatusCode)
			}
		}},
		{"PRM resource override", Config{PRMResource: "https://elsewhere.example/mcp"}, func(t *testing.T, s *Server, _ map[string]any) {
			if _, prm := getJSON(t, s.PRMURL()); prm["resource"] != "https://elsewhere.example/mcp" {
				t.Errorf("PRM resource = %v", prm["resource"])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, tt.cfg)
			_, md := getJSON(t, s.MetadataURL())
			tt.check(t, s, md)
		})
	}
}
