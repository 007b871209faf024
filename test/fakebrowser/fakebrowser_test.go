package fakebrowser

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"mcpauth/test/fakeas"
)

// callbackServer stands in for the client's loopback redirect listener.
func callbackServer(t *testing.T) (*httptest.Server, chan url.Values) {
	t.Helper()
	got := make(chan url.Values, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		got <- r.URL.Query()
		if r.URL.Query().Get("error") != "" {
			http.Error(w, "login failed", http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, "<html><body>Logged in. You can close this tab.</body></html>")
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// consentSite is an AS-like site: /start sets a cookie and redirects to a
// marked consent page whose forms post to /decide, which needs the cookie.
func consentSite(t *testing.T, callback string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /start", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sess", Value: "abc", Path: "/"})
		http.Redirect(w, r, "/consent?state="+r.URL.Query().Get("state"), http.StatusFound)
	})
	mux.HandleFunc("GET /consent", func(w http.ResponseWriter, r *http.Request) {
		st := r.URL.Query().Get("state")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<html><body><h1>Allow?</h1>
<form method="POST" action="/decide" data-fakebrowser='deny'><input type="hidden" name="state" value="%[1]s"><button name="d" value="deny">Deny</button></form>
<FORM action="decide" method="post" data-fakebrowser="approve">
  <input type=hidden name=state value="%[1]s"><input type="checkbox" name="remember" checked>
  <input type="checkbox" name="spam"><input type="text" name="nick">
  <button type="submit" name="d" value="approve">Approve</button><button name="d" value="other">Other</button>
</FORM></body></html>`, st)
	})
	mux.HandleFunc("POST /decide", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("sess"); err != nil || c.Value != "abc" {
			http.Error(w, "no session cookie", http.StatusForbidden)
			return
		}
		_ = r.ParseForm()
		q := url.Values{"state": {r.PostForm.Get("state")}}
		if r.PostForm.Get("d") == "approve" && r.PostForm.Get("remember") == "on" &&
			r.PostForm.Get("nick") == "alice" && !r.PostForm.Has("spam") {
			q.Set("code", "c0de")
		} else {
			q.Set("error", "access_denied")
		}
		http.Redirect(w, r, callback+"?"+q.Encode(), http.StatusSeeOther)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestOpenApprovesMarkedForm(t *testing.T) {
	cb, got := callbackServer(t)
	site := consentSite(t, cb.URL+"/callback")
	res, err := Open(context.Background(), site.URL+"/start?state=s1", Options{Fill: url.Values{"nick": {"alice"}}})
	if err != nil {
		t.Fatal(err)
	}
	q := <-got
	if q.Get("code") != "c0de" || q.Get("state") != "s1" {
		t.Errorf("callback query = %v", q)
	}
	if !res.OK() || !strings.HasPrefix(res.FinalURL, cb.URL+"/callback?") || res.FormsSubmitted != 1 || res.Requests != 4 {
		t.Errorf("result = %+v", res)
	}
	if !strings.Contains(res.Body, "Logged in") {
		t.Errorf("body = %q", res.Body)
	}
}

func TestOpenDenies(t *testing.T) {
	cb, got := callbackServer(t)
	site := consentSite(t, cb.URL+"/callback")
	res, err := Open(context.Background(), site.URL+"/start?state=s2", Options{Deny: true})
	if err != nil {
		t.Fatal(err)
	}
	if q := <-got; q.Get("error") != "access_denied" || q.Get("state") != "s2" {
		t.Errorf("callback query = %v", q)
	}
	if res.OK() || res.Status != http.StatusBadRequest {
		t.Errorf("status = %d, want 400 from the callback", res.Status)
	}
}

func TestOpenStopsOnUnmarkedPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<form method="post" action="/x"><button>Go</button></form>`)
	}))
	defer srv.Close()
	res, err := Open(context.Background(), srv.URL, Options{})
	if err != nil || res.FormsSubmitted != 0 || res.Requests != 1 || !res.OK() {
		t.Errorf("res = %+v, err = %v", res, err)
	}
}

// oidc-provider's dev interactions: a login form with empty inputs, then a
// consent form with only a button, neither marked.
func TestOpenSubmitFirstFormLikeOIDCProvider(t *testing.T) {
	cb, got := callbackServer(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /auth", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/interaction/uid1", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /interaction/uid1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<form autocomplete="off" action="/interaction/uid1/login" method="post">
<input required type="text" name="login" placeholder="Enter any login" autofocus="on">
<input required type="password" name="password" placeholder="and password">
<button type="submit" class="login login-submit">Sign-in</button></form>
<a href="/interaction/uid1/abort">[ Cancel ]</a>`)
	})
	mux.HandleFunc("POST /interaction/uid1/login", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("login") != "bob" || r.FormValue("password") != "fakebrowser" {
			http.Error(w, "bad login", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<form autocomplete="off" action="/interaction/uid1/confirm" method="post">
<button autofocus type="submit" class="login login-submit">Continue</button></form>`)
	})
	mux.HandleFunc("POST /interaction/uid1/confirm", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, cb.URL+"/callback?code=xyz&state=s3", http.StatusSeeOther)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res, err := Open(context.Background(), srv.URL+"/auth", Options{SubmitFirstForm: true, Fill: url.Values{"login": {"bob"}}})
	if err != nil {
		t.Fatal(err)
	}
	if q := <-got; q.Get("code") != "xyz" || !res.OK() || res.FormsSubmitted != 2 {
		t.Errorf("callback %v, result %+v", q, res)
	}
}

func TestOpenRefusesNonHTTP(t *testing.T) {
	for _, u := range []string{"file:///etc/passwd", "javascript:alert(1)", "/relative", "http://"} {
		if _, err := Open(context.Background(), u, Options{}); err == nil {
			t.Errorf("Open(%q) succeeded", u)
		}
	}
}

func TestOpenHonoursContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Open(ctx, srv.URL, Options{}); err == nil {
		t.Error("Open returned no error after its context ended")
	}
}

// TestOpenWithFakeAS pins the marker contract with test/fakeas's consent
// page, for both answers.
func TestOpenWithFakeAS(t *testing.T) {
	for _, deny := range []bool{false, true} {
		t.Run(fmt.Sprint("deny=", deny), func(t *testing.T) {
			cb, got := callbackServer(t)
			as, err := fakeas.Start(fakeas.Config{Consent: true})
			if err != nil {
				t.Fatal(err)
			}
			defer as.Close()
			resp, err := http.Post(as.Issuer()+"/register", "application/json",
				strings.NewReader(`{"redirect_uris":["http://127.0.0.1/callback"],"token_endpoint_auth_method":"none"}`))
			if err != nil {
				t.Fatal(err)
			}
			var reg struct {
				ClientID string `json:"client_id"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&reg)
			resp.Body.Close()
			q := url.Values{"response_type": {"code"}, "client_id": {reg.ClientID}, "redirect_uri": {cb.URL + "/callback"},
				"state": {"st"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
			res, err := Open(context.Background(), as.Issuer()+"/authorize?"+q.Encode(), Options{Deny: deny})
			if err != nil {
				t.Fatal(err)
			}
			cbq := <-got
			if deny {
				if cbq.Get("error") != "access_denied" || res.OK() {
					t.Errorf("deny: callback %v, status %d", cbq.Get("error"), res.Status)
				}
				return
			}
			if cbq.Get("code") == "" || cbq.Get("iss") != as.Issuer() || !res.OK() || res.FormsSubmitted != 1 {
				t.Errorf("approve: code present %v, iss %q, result status %d forms %d", cbq.Get("code") != "", cbq.Get("iss"), res.Status, res.FormsSubmitted)
			}
		})
	}
}
