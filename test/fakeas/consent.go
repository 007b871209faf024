package fakeas

import (
	"html/template"
	"net/http"
)

// consentPage is the page Consent: true serves. The Approve and Deny forms
// carry data-fakebrowser markers, the contract with test/fakebrowser.
var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorize {{.Client}}</title>
<style>
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:#f3f4f6;color:#111827}
main{max-width:28rem;margin:4rem auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 4px 24px rgba(0,0,0,.08)}
.tag{font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:#6b7280}
h1{font-size:1.3rem;margin:.25rem 0 1rem}
code{background:#f3f4f6;border-radius:4px;padding:.1rem .35rem;font-size:.9em;word-break:break-all}
ul{padding-left:1.2rem}
.buttons{display:flex;gap:.75rem;margin-top:1.5rem}
form{margin:0}
button{font:inherit;border:0;border-radius:8px;padding:.6rem 1.4rem;cursor:pointer}
.approve{background:#2563eb;color:#fff}.approve:hover{background:#1d4ed8}
.deny{background:#e5e7eb;color:#111827}.deny:hover{background:#d1d5db}
small{display:block;margin-top:1.5rem;color:#6b7280}
</style></head>
<body><main>
<div class="tag">mcpauth demo authorization server</div>
<h1>Allow access to {{.Server}}?</h1>
<p>The application <code>{{.Client}}</code> asks to act as <b>{{.Subject}}</b> with these scopes:</p>
<ul>{{range .Scopes}}<li><code>{{.}}</code></li>{{end}}</ul>
{{if .Resource}}<p>for the resource <code>{{.Resource}}</code>.</p>{{end}}
<div class="buttons">
<form method="post" action="{{.Action}}" data-fakebrowser="approve">
<input type="hidden" name="txn" value="{{.Txn}}"><input type="hidden" name="decision" value="approve">
<button class="approve" type="submit" autofocus>Approve</button></form>
<form method="post" action="{{.Action}}" data-fakebrowser="deny">
<input type="hidden" name="txn" value="{{.Txn}}"><input type="hidden" name="decision" value="deny">
<button class="deny" type="submit">Deny</button></form>
</div>
<small>This is a local demo server: no real account is involved.</small>
</main></body></html>
`))

func (s *Server) renderConsent(w http.ResponseWriter, txn string, ar *authRequest) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	_ = consentPage.Execute(w, map[string]any{
		"Server":   s.cfg.ServerName,
		"Client":   ar.clientID,
		"Subject":  s.cfg.Subject,
		"Scopes":   ar.scope,
		"Resource": ar.resource,
		"Action":   s.prefix + "/consent",
		"Txn":      txn,
	})
}
