package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mcpauth/agent"
)

// view is what the window renders: a snapshot at a moment, plus what the
// UI itself is doing for each server.
type view struct {
	snap Snapshot
	now  time.Time
	busy map[string]string
}

// managerWindow is the manager window. Every method runs on fyne's thread;
// it renders views and turns clicks into actions, and decides nothing the
// pure functions don't.
type managerWindow struct {
	app      fyne.App
	w        fyne.Window
	send     func(action)
	exe      string
	visible  bool
	v        view
	selected string // the server shown in the detail pane

	status  *widget.Label   // the agent is not reachable
	banner  *fyne.Container // pending approvals
	list    *widget.List
	detail  *serverDetail
	clients *clientsTab
	tabs    *container.AppTabs
	dialog  dialog.Dialog // the last dialog shown, for tests
}

func newManagerWindow(a fyne.App, send func(action), exe string) *managerWindow {
	m := &managerWindow{app: a, w: a.NewWindow("mcpauth"), send: send, exe: exe}
	m.w.SetIcon(iconNormal)
	m.w.SetCloseIntercept(func() {
		m.visible = false
		m.w.Hide()
	})
	m.status = widget.NewLabel("")
	m.status.Importance = widget.DangerImportance
	m.status.Wrapping = fyne.TextWrapWord
	m.status.Hide()
	m.banner = container.NewVBox()

	m.list = widget.NewList(
		func() int { return len(m.v.snap.Servers) },
		func() fyne.CanvasObject {
			return container.NewVBox(widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), widget.NewLabel(""))
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(m.v.snap.Servers) {
				return
			}
			s := m.v.snap.Servers[id]
			box := o.(*fyne.Container)
			box.Objects[0].(*widget.Label).SetText(s.Name)
			st := box.Objects[1].(*widget.Label)
			_, waiting := pendingFor(m.v.snap.Approvals, s.Name)
			st.Importance = stateImportance(s.State, waiting)
			if waiting {
				st.SetText("waiting for your approval")
			} else {
				st.SetText(stateText(s))
			}
		})
	m.list.OnSelected = func(id widget.ListItemID) {
		if id < len(m.v.snap.Servers) {
			m.selected = m.v.snap.Servers[id].Name
			m.renderDetail()
		}
	}
	add := widget.NewButtonWithIcon("Add server…", theme.ContentAddIcon(), m.showAddDialog)
	left := container.NewBorder(nil, add, nil, nil, m.list)
	m.detail = newServerDetail(m)
	split := container.NewHSplit(left, m.detail.root)
	split.Offset = 0.26
	m.clients = newClientsTab(m)
	m.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Servers", theme.StorageIcon(), split),
		container.NewTabItemWithIcon("Local clients", theme.ComputerIcon(), m.clients.root),
	)
	m.w.SetContent(container.NewBorder(container.NewVBox(m.status, m.banner), nil, nil, nil, m.tabs))
	m.w.Resize(fyne.NewSize(1000, 820))
	return m
}

func stateImportance(s agent.State, waiting bool) widget.Importance {
	switch {
	case waiting:
		return widget.WarningImportance
	case s == agent.StateSignedIn:
		return widget.SuccessImportance
	case s == agent.StateError:
		return widget.DangerImportance
	default:
		return widget.WarningImportance
	}
}

// show brings the window up, at server if it is not "".
func (m *managerWindow) show(server string) {
	if server != "" {
		m.selected = server
		m.tabs.SelectIndex(0)
		m.selectInList()
		m.renderDetail()
	}
	m.visible = true
	m.w.Show()
	m.w.RequestFocus()
}

// update renders v.
func (m *managerWindow) update(v view) {
	m.v = v
	if v.snap.Err != nil {
		m.status.SetText("The mcpauth agent is not reachable: " + v.snap.Err.Error())
		m.status.Show()
	} else {
		m.status.Hide()
	}
	m.renderBanner()
	if _, ok := m.server(m.selected); !ok && len(v.snap.Servers) > 0 {
		m.selected = v.snap.Servers[0].Name
	}
	m.list.Refresh()
	m.selectInList()
	m.renderDetail()
	m.clients.update(v)
}

func (m *managerWindow) server(name string) (agent.ServerStatus, bool) {
	for _, s := range m.v.snap.Servers {
		if s.Name == name {
			return s, true
		}
	}
	return agent.ServerStatus{}, false
}

func (m *managerWindow) selectInList() {
	for i, s := range m.v.snap.Servers {
		if s.Name == m.selected {
			m.list.Select(i)
			return
		}
	}
	m.list.UnselectAll()
}

func (m *managerWindow) renderDetail() {
	s, ok := m.server(m.selected)
	m.detail.render(s, ok, m.v)
}

// renderBanner shows each pending sign-in with Approve and Deny.
func (m *managerWindow) renderBanner() {
	var rows []fyne.CanvasObject
	for _, a := range m.v.snap.Approvals {
		approve := widget.NewButtonWithIcon(labelApprove, theme.ConfirmIcon(), func() {
			m.send(action{kind: actApprove, server: a.Server, approval: a.ID})
		})
		approve.Importance = widget.HighImportance
		deny := widget.NewButtonWithIcon(labelDeny, theme.CancelIcon(), func() {
			m.send(action{kind: actDeny, server: a.Server, approval: a.ID})
		})
		text := widget.NewLabelWithStyle(approvalLabel(a), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		icon := widget.NewIcon(theme.WarningIcon())
		rows = append(rows, container.NewBorder(nil, nil, icon, container.NewHBox(approve, deny), text))
	}
	if len(rows) > 0 {
		rows = append(rows, widget.NewSeparator())
	}
	m.banner.Objects = rows
	m.banner.Refresh()
}

// showOutcome tells the user how an action ended: in the window when it
// is open, else as a desktop notification.
func (m *managerWindow) showOutcome(o outcome, key string, a fyne.App) {
	switch o.kind {
	case outcomeError:
		if !m.visible {
			a.SendNotification(fyne.NewNotification(o.title, o.message))
			return
		}
		m.showMessage(o.title, o.message)
	case outcomeAskClientID:
		m.show(o.server)
		m.askClientID(o.server, o.title, o.message)
	case outcomeShowKey:
		m.showKey(o.title, o.message, key)
	}
}

// showMessage shows a message in a dialog that wraps long text.
func (m *managerWindow) showMessage(title, message string) {
	d := dialog.NewCustom(title, "OK", wrapped(message), m.w)
	m.setDialog(d, 480, 200)
}

func (m *managerWindow) setDialog(d dialog.Dialog, w, h float32) {
	d.Resize(fyne.NewSize(w, h))
	m.dialog = d
	d.Show()
}

func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// confirm asks c, and calls yes if the user confirms.
func (m *managerWindow) confirm(c confirmation, yes func()) {
	d := dialog.NewCustomConfirm(c.title, c.confirm, "Cancel", wrapped(c.message), func(ok bool) {
		if ok {
			yes()
		}
	}, m.w)
	d.SetConfirmImportance(widget.DangerImportance)
	m.setDialog(d, 480, 220)
}

// spacer keeps buttons to the left.
func row(objs ...fyne.CanvasObject) *fyne.Container {
	return container.NewHBox(append(objs, layout.NewSpacer())...)
}
