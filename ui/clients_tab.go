package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// clientsTab lists the HTTP bridge's local clients: create a key (shown
// once), revoke one.
type clientsTab struct {
	m     *managerWindow
	root  fyne.CanvasObject
	intro *widget.Label
	rows  *fyne.Container
}

func newClientsTab(m *managerWindow) *clientsTab {
	t := &clientsTab{m: m}
	t.intro = wrapped("")
	t.rows = container.NewVBox()
	add := widget.NewButtonWithIcon("New key…", theme.ContentAddIcon(), t.askName)
	add.Importance = widget.HighImportance
	t.root = container.NewBorder(container.NewVBox(t.intro, row(add), widget.NewSeparator()), nil, nil, nil,
		container.NewVScroll(t.rows))
	return t
}

// clientsIntro explains the tab; bridge is the HTTP bridge's base URL.
func clientsIntro(bridge string) string {
	where := "the HTTP bridge"
	if bridge != "" {
		where += " (" + bridge + "/servers/NAME/mcp)"
	}
	return "Apps that reach servers through " + where + " send a key of their own, so that you can revoke one " +
		"without the others. A key is shown once, when it is created: mcpauth keeps only a hash of it."
}

func (t *clientsTab) update(v view) {
	t.intro.SetText(clientsIntro(v.snap.BridgeURL))
	var rows []fyne.CanvasObject
	for _, c := range v.snap.Clients {
		name := c.Name
		revoke := widget.NewButtonWithIcon("Revoke…", theme.DeleteIcon(), func() {
			t.m.confirm(confirmRevokeClient(name), func() { t.m.send(action{kind: actRemoveClient, client: name}) })
		})
		revoke.Importance = widget.DangerImportance
		text := container.NewVBox(
			widget.NewLabelWithStyle(c.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			widget.NewLabel(clientRow(c, v.now)),
		)
		rows = append(rows, container.NewBorder(nil, nil, nil, container.NewCenter(revoke), text), widget.NewSeparator())
	}
	if len(rows) == 0 {
		rows = append(rows, widget.NewLabel("No local clients yet."))
	}
	t.rows.Objects = rows
	t.rows.Refresh()
}

// askName asks for a new client's name, then asks the agent for its key.
func (t *clientsTab) askName() {
	name := widget.NewEntry()
	name.SetPlaceHolder("cursor")
	name.Validator = validateServerName
	d := dialog.NewForm("New local client", "Create key", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Name", name)},
		func(ok bool) {
			if ok && validateServerName(name.Text) == nil {
				t.m.send(action{kind: actAddClient, client: name.Text})
			}
		}, t.m.w)
	t.m.setDialog(d, 420, 180)
}

// showKey shows a new client's key, once, with a Copy button. The key
// lives only in this dialog's widgets.
func (m *managerWindow) showKey(title, message, key string) {
	k := widget.NewLabelWithStyle(key, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	k.Selectable = true
	copyBtn := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		m.app.Clipboard().SetContent(key)
	})
	content := container.NewVBox(wrapped(message), container.NewBorder(nil, nil, nil, copyBtn, k))
	d := dialog.NewCustom(title, "Done", content, m.w)
	m.setDialog(d, 560, 200)
}
