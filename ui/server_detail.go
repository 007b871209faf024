package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mcpauth/agent"
)

// serverDetail is the right-hand pane: one server's facts, its actions,
// its setting and its config snippets.
type serverDetail struct {
	m    *managerWindow
	root fyne.CanvasObject
	body *fyne.Container

	srv       agent.ServerStatus
	title     *widget.Label
	keys      []*widget.Label
	vals      []*widget.Label
	errText   *widget.Label
	busyText  *widget.Label
	signIn    *widget.Button
	signOut   *widget.Button
	remove    *widget.Button
	auto      *widget.Check
	rendering bool // auto.SetChecked must not send an action

	host      *widget.Select
	transport *widget.RadioGroup
	where     *widget.Label
	code      *widget.Label
	copyBtn   *widget.Button
	note      *widget.Label
	none      *widget.Label
}

func newServerDetail(m *managerWindow) *serverDetail {
	d := &serverDetail{m: m}
	d.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.title.SizeName = theme.SizeNameSubHeadingText
	grid := container.New(layout.NewFormLayout())
	for range detailRows(agent.ServerStatus{}, m.v.now) {
		k := widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
		v := widget.NewLabel("")
		v.Truncation = fyne.TextTruncateEllipsis
		d.keys, d.vals = append(d.keys, k), append(d.vals, v)
		grid.Add(k)
		grid.Add(v)
	}
	d.errText = wrapped("")
	d.errText.Importance = widget.DangerImportance
	d.busyText = widget.NewLabel("")
	d.busyText.Importance = widget.HighImportance

	d.signIn = widget.NewButtonWithIcon("Sign in", theme.LoginIcon(), func() {
		d.m.send(action{kind: actSignIn, server: d.srv.Name})
	})
	d.signIn.Importance = widget.HighImportance
	d.signOut = widget.NewButtonWithIcon("Sign out", theme.LogoutIcon(), func() {
		s := d.srv
		d.m.confirm(confirmSignOut(s), func() { d.m.send(action{kind: actSignOut, server: s.Name}) })
	})
	d.remove = widget.NewButtonWithIcon("Remove…", theme.DeleteIcon(), func() {
		s := d.srv
		d.m.confirm(confirmRemove(s), func() { d.m.send(action{kind: actRemove, server: s.Name}) })
	})
	d.remove.Importance = widget.DangerImportance
	d.auto = widget.NewCheck("Sign in again without asking, once I approved a sign-in", func(on bool) {
		if !d.rendering {
			d.m.send(action{kind: actSetAutoApprove, server: d.srv.Name, on: on})
		}
	})

	hosts := make([]string, len(Hosts))
	for i, h := range Hosts {
		hosts[i] = h.String()
	}
	d.where = widget.NewLabel("")
	d.where.Wrapping = fyne.TextWrapWord
	d.code = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	d.code.Selectable = true
	d.note = wrapped("")
	d.host = widget.NewSelect(hosts, func(string) { d.renderSnippet() })
	d.transport = widget.NewRadioGroup([]string{Stdio.String(), HTTP.String()}, func(string) { d.renderSnippet() })
	d.transport.Horizontal = true
	d.copyBtn = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		d.m.app.Clipboard().SetContent(d.code.Text)
	})
	d.host.SetSelected(hosts[0])
	d.transport.SetSelected(Stdio.String())

	snippets := container.NewVBox(
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Use it from an app", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewBorder(nil, nil, nil, d.transport, d.host),
		d.where,
		container.NewBorder(nil, nil, nil, container.NewVBox(d.copyBtn), container.NewHScroll(d.code)),
		d.note,
	)
	d.none = widget.NewLabel("Select a server, or add one with Add server….")
	d.body = container.NewVBox(
		d.title, grid, d.errText, d.busyText,
		row(d.signIn, d.signOut, d.remove),
		d.auto,
		snippets,
	)
	d.root = container.NewStack(container.NewVScroll(container.NewPadded(d.body)), container.NewCenter(d.none))
	return d
}

// render shows s (ok: there is a selected server) as of v.
func (d *serverDetail) render(s agent.ServerStatus, ok bool, v view) {
	if !ok {
		d.body.Hide()
		d.none.Show()
		return
	}
	d.none.Hide()
	d.body.Show()
	d.srv = s
	d.title.SetText(s.Name)
	for i, r := range detailRows(s, v.now) {
		d.keys[i].SetText(r[0])
		d.vals[i].SetText(r[1])
	}
	d.errText.SetText(s.Error)
	d.errText.Hidden = s.Error == ""
	busy := v.busy[s.Name]
	if a, waiting := pendingFor(v.snap.Approvals, s.Name); waiting && busy == "" {
		busy = "A sign-in requested by " + requester(a) + " waits for your approval (above)."
	}
	d.busyText.SetText(busy)
	d.busyText.Hidden = busy == ""
	d.signIn.SetText(signInLabel(s))
	setEnabled(d.signIn, v.busy[s.Name] == "")
	setEnabled(d.signOut, s.State == agent.StateSignedIn)
	d.rendering = true
	d.auto.SetChecked(s.AutoApprove)
	d.rendering = false
	d.renderSnippet()
	d.body.Refresh()
}

func (d *serverDetail) renderSnippet() {
	if d.code == nil || d.srv.Name == "" {
		return
	}
	h := Hosts[max(d.host.SelectedIndex(), 0)]
	t := Stdio
	if d.transport.Selected == HTTP.String() {
		t = HTTP
	}
	sn := snippetFor(h, t, SnippetInput{Server: d.srv.Name, Exe: d.m.exe, BridgeURL: d.m.v.snap.BridgeURL})
	d.where.SetText("Paste into " + sn.Where + ":")
	d.where.Hidden = sn.Text == ""
	if sn.Where == "a terminal" {
		d.where.SetText("Run in a terminal:")
	}
	d.code.SetText(sn.Text)
	setEnabled(d.copyBtn, sn.Text != "")
	d.note.SetText(sn.Note)
	d.note.Hidden = sn.Note == ""
}

func setEnabled(w fyne.Disableable, on bool) {
	if on {
		w.Enable()
	} else {
		w.Disable()
	}
}
