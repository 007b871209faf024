package ui

import (
	"strings"

	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// showAddDialog asks for a new server. The entries validate as the user
// types; the whole form is checked again by addForm.request on submit,
// and a problem re-opens the form with what was typed.
func (m *managerWindow) showAddDialog() {
	name := widget.NewEntry()
	name.SetPlaceHolder("linear")
	name.Validator = validateServerName
	allowHTTP := widget.NewCheck("Allow plain http to a host that is not this machine", nil)
	url := widget.NewEntry()
	url.SetPlaceHolder("https://mcp.example.com/mcp")
	url.Validator = func(s string) error { return validateServerURL(strings.TrimSpace(s), allowHTTP.Checked) }
	allowHTTP.OnChanged = func(bool) { url.Validate() }
	clientID := widget.NewEntry()
	clientID.SetPlaceHolder("optional: a client ID registered for you")
	secret := widget.NewPasswordEntry()
	secret.SetPlaceHolder("optional; kept in the keychain")
	metadata := widget.NewEntry()
	metadata.SetPlaceHolder("optional: https://… client metadata document")
	scopes := widget.NewEntry()
	scopes.SetPlaceHolder("optional, space-separated")
	headers := widget.NewMultiLineEntry()
	headers.SetPlaceHolder("optional, one per line: X-Api-Key: …  (kept in the keychain)")
	headers.SetMinRowsVisible(2)
	noResource := widget.NewCheck("Omit the resource parameter (for Entra ID)", nil)

	items := []*widget.FormItem{
		widget.NewFormItem(fieldName, name),
		widget.NewFormItem(fieldURL, url),
		widget.NewFormItem(fieldClientID, clientID),
		widget.NewFormItem(fieldSecret, secret),
		widget.NewFormItem(fieldMetadataURL, metadata),
		widget.NewFormItem(fieldScopes, scopes),
		widget.NewFormItem(fieldHeaders, headers),
		widget.NewFormItem("", noResource),
		widget.NewFormItem("", allowHTTP),
	}
	var d *dialog.FormDialog
	d = dialog.NewForm("Add a server", "Add", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		req, errs := addForm{
			Name: name.Text, URL: url.Text, ClientID: clientID.Text, ClientSecret: secret.Text,
			MetadataURL: metadata.Text, Scopes: scopes.Text, Headers: headers.Text,
			NoResource: noResource.Checked, AllowHTTP: allowHTTP.Checked,
		}.request()
		if errs != nil {
			e := dialog.NewCustom("Check the server's details", "OK", wrapped(formErrorText(errs)), m.w)
			e.SetOnClosed(d.Show)
			m.setDialog(e, 460, 200)
			return
		}
		m.send(action{kind: actAdd, server: req.Name, req: &req})
	}, m.w)
	m.setDialog(d, 620, 520)
}

// askClientID asks for a pre-registered client for server, for an
// authorization server that supports no automatic registration; the agent
// then signs in with it.
func (m *managerWindow) askClientID(server, title, message string) {
	id := widget.NewEntry()
	id.Validator = func(s string) error {
		if strings.TrimSpace(s) == "" {
			return errEmptyClientID
		}
		return nil
	}
	secret := widget.NewPasswordEntry()
	secret.SetPlaceHolder("optional; kept in the keychain")
	d := dialog.NewForm(title, "Sign in", "Cancel", []*widget.FormItem{
		widget.NewFormItem("", wrapped(message)),
		widget.NewFormItem("Client ID", id),
		widget.NewFormItem("Client secret", secret),
	}, func(ok bool) {
		if ok && strings.TrimSpace(id.Text) != "" {
			m.send(action{kind: actSetClientID, server: server, clientID: strings.TrimSpace(id.Text), secret: secret.Text})
		}
	}, m.w)
	m.setDialog(d, 560, 320)
}
