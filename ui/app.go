package ui

import (
	"context"
	"log/slog"
	"os"
	"reflect"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"

	"mcpauth/assets"
)

// AppID is the fyne app ID, as in cmd/mcpauth-tray/FyneApp.toml.
const AppID = "dev.mcpauth.mcpauth"

// Options configure Run.
type Options struct {
	// Exe is mcpauth's absolute path, for config snippets; "" means
	// os.Executable.
	Exe string
	// ShowWindow opens the manager window at start.
	ShowWindow bool
	// PreviewMenu also shows the tray menu in a window of its own, as
	// fyne draws menus: for screenshots, and desktops with no tray host.
	PreviewMenu bool
	// QuitOnClose quits when the window is closed, rather than hide it:
	// for a desktop with no tray to bring it back from.
	QuitOnClose bool
	// Logger gets operational messages, never a secret. Nil discards.
	Logger *slog.Logger
}

// Run shows the tray icon and menu, and the manager window on demand,
// until ctx ends or the user chooses Quit. It must be called on the main
// goroutine: fyne's GL driver runs on the main OS thread. It needs a
// display; the caller checks for one (HasDisplay).
func Run(ctx context.Context, b Backend, opts Options) error {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	a := app.NewWithID(AppID)
	a.SetIcon(iconNormal)
	var tray trayHost
	if d, ok := a.(desktop.App); ok {
		tray = d
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if tray != nil && !trayHostRunning() {
		// Nobody shows a tray icon (GNOME without an AppIndicator
		// extension, a bare X server): the window is the app.
		opts.Logger.Info("no system tray on this desktop: the mcpauth window stays open instead; closing it quits")
		opts.ShowWindow, opts.QuitOnClose = true, true
	}
	u := newUI(a, b, tray, opts, fyne.Do)
	u.start(ctx)
	go func() {
		<-ctx.Done()
		fyne.Do(a.Quit)
	}()
	a.Run()
	cancel()
	u.wait()
	return nil
}

var (
	iconNormal    = fyne.NewStaticResource("mcpauth.png", assets.Icon)
	iconAttention = fyne.NewStaticResource("mcpauth-attention.png", assets.IconAttention)
)

// trayHost is the part of desktop.App the tray uses; tests fake it.
type trayHost interface {
	SetSystemTrayMenu(*fyne.Menu)
	SetSystemTrayIcon(fyne.Resource)
}

// ui is the tray app. One goroutine, loop, owns its state: it reads the
// agent, decides what to show with the pure functions of labels.go and
// menu.go, and hands the result to fyne through do. fyne callbacks only
// send actions to it. Backend calls run on goroutines of their own and
// report back on results, so a slow login never blocks the menu.
type ui struct {
	app  fyne.App
	b    Backend
	tray trayHost
	opts Options
	do   func(func()) // runs f on fyne's thread: fyne.Do
	now  func() time.Time
	log  *slog.Logger

	// rebuild has room for one request, so that a burst of events
	// becomes one re-read (tailscale's rebuildCh).
	rebuild chan struct{}
	actions chan action
	results chan result
	done    chan struct{} // closed when loop returns
	calls   sync.WaitGroup

	// Owned by loop.
	last     Snapshot
	notified []Approval
	menu     []menuEntry
	icon     fyne.Resource
	busy     map[string]string // server -> what runs ("Signing in…")

	// Owned by fyne's thread.
	win     *managerWindow
	preview fyne.Window
}

func newUI(a fyne.App, b Backend, tray trayHost, opts Options, do func(func())) *ui {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Exe == "" {
		opts.Exe, _ = os.Executable()
	}
	u := &ui{
		app: a, b: b, tray: tray, opts: opts, do: do, now: time.Now, log: opts.Logger,
		rebuild: make(chan struct{}, 1),
		actions: make(chan action, 16),
		results: make(chan result, 16),
		done:    make(chan struct{}),
		busy:    map[string]string{},
	}
	u.win = newManagerWindow(a, u.send, opts.Exe)
	if opts.QuitOnClose {
		u.win.w.SetCloseIntercept(func() { u.send(action{kind: actQuit}) })
	}
	if opts.PreviewMenu {
		u.preview = a.NewWindow("mcpauth menu")
	}
	return u
}

// start shows a first menu, and runs the loop and the event subscription
// until ctx ends. Run calls it before the app runs: fyne starts the tray
// only if it has a menu by then.
func (u *ui) start(ctx context.Context) {
	u.menu = []menuEntry{
		{label: "Reading the agent…", disabled: true},
		{separator: true},
		{label: labelOpen, act: action{kind: actOpen}},
		{label: labelQuit, act: action{kind: actQuit}},
	}
	u.setMenu(u.menu)
	if u.tray != nil {
		u.icon = iconNormal
		u.tray.SetSystemTrayIcon(u.icon)
	}
	if u.opts.ShowWindow {
		u.win.show("")
	}
	go u.loop(ctx)
	go u.subscribe(ctx)
	u.requestRebuild()
}

// wait returns once the loop and every Backend call it started are done.
func (u *ui) wait() {
	<-u.done
	u.calls.Wait()
}

// send is what fyne callbacks call: it hands act to the loop.
func (u *ui) send(act action) {
	select {
	case u.actions <- act:
	case <-u.done:
	}
}

func (u *ui) requestRebuild() {
	select {
	case u.rebuild <- struct{}{}:
	default: // one is pending already
	}
}

// subscribe turns the agent's events into rebuild requests. When the
// stream ends (the agent went away) it re-reads once, which shows the
// error, and tries again after a pause.
func (u *ui) subscribe(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		events, err := u.b.AttachTray(ctx)
		if err == nil {
			// Read once the subscription is in place, so that no change
			// falls between the read and the first event.
			u.requestRebuild()
			backoff = time.Second
			for range events {
				u.requestRebuild()
			}
		} else {
			u.log.Warn("could not subscribe to the agent's events", "err", err)
		}
		u.requestRebuild()
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// tickEvery is how often the UI reads the agent without being told to.
const tickEvery = 30 * time.Second

func (u *ui) loop(ctx context.Context) {
	defer close(u.done)
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-u.rebuild:
			u.apply(u.fetch(ctx))
		case <-tick.C:
			// Relative times ("expires in 9m") move on, and the audit
			// record's last uses change without an event.
			u.requestRebuild()
		case act := <-u.actions:
			u.handle(ctx, act)
		case r := <-u.results:
			u.report(ctx, r)
			u.requestRebuild()
		}
	}
}

// fetchTimeout bounds one re-read of the agent.
const fetchTimeout = 10 * time.Second

func (u *ui) fetch(ctx context.Context) Snapshot {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	var s Snapshot
	var err error
	if s.Servers, err = u.b.List(ctx); err != nil {
		s = u.last
		s.Err = err
		return s
	}
	if s.Approvals, err = u.b.Approvals(ctx); err != nil {
		s.Err = err
	}
	if s.Clients, err = u.b.ListClients(ctx); err != nil && s.Err == nil {
		s.Err = err
	}
	if st, err := u.b.Status(ctx); err == nil {
		s.BridgeURL = st.Bridge
	}
	return s
}

// apply shows s: it notifies new approvals, and updates the tray menu and
// icon (only when they changed) and the window.
func (u *ui) apply(s Snapshot) {
	u.last = s
	if s.Err == nil {
		for _, a := range newApprovals(u.notified, s.Approvals) {
			title, content := notification(a)
			u.app.SendNotification(fyne.NewNotification(title, content))
		}
		u.notified = s.Approvals
	}
	// One call on fyne's thread for the menu, the icon and the window, so
	// that they never show two different snapshots.
	var setMenu, setIcon bool
	menu := trayMenu(s)
	if !reflect.DeepEqual(menu, u.menu) {
		u.menu, setMenu = menu, true
	}
	icon := iconNormal
	if needsAttention(s) {
		icon = iconAttention
	}
	if icon != u.icon {
		u.icon, setIcon = icon, u.tray != nil
	}
	v := view{snap: s, now: u.now(), busy: copyMap(u.busy)}
	u.do(func() {
		if setMenu {
			u.setMenu(menu)
		}
		if setIcon {
			u.tray.SetSystemTrayIcon(icon)
		}
		u.win.update(v)
	})
}

// setMenu runs on fyne's thread.
func (u *ui) setMenu(entries []menuEntry) {
	if u.tray != nil {
		u.tray.SetSystemTrayMenu(fyneMenu("mcpauth", entries, u.send))
	}
	if u.preview != nil {
		u.showPreview(entries)
	}
}

// handle runs on the loop.
func (u *ui) handle(ctx context.Context, act action) {
	act = signInOrApprove(act, u.last.Approvals)
	switch act.kind {
	case actOpen, actShowServer:
		u.do(func() { u.win.show(act.server) })
	case actQuit:
		u.do(u.app.Quit)
	case actNone:
	default:
		if act.kind == actSignIn {
			u.busy[act.server] = "Signing in… finish in your browser."
			u.apply(u.last)
		}
		u.calls.Add(1)
		go func() {
			defer u.calls.Done()
			r := u.call(ctx, act)
			select {
			case u.results <- r:
			case <-u.done:
			}
		}()
	}
}

// call runs act against the Backend.
func (u *ui) call(ctx context.Context, act action) result {
	r := result{act: act}
	switch act.kind {
	case actApprove:
		r.err = u.b.Approve(ctx, act.approval)
	case actDeny:
		r.err = u.b.Deny(ctx, act.approval)
	case actSignIn:
		r.err = u.b.SignIn(ctx, act.server)
	case actSignOut:
		r.err = u.b.Logout(ctx, act.server)
	case actRemove:
		r.err = u.b.Remove(ctx, act.server)
	case actAdd:
		r.err = u.b.Add(ctx, *act.req)
	case actSetClientID:
		r.err = u.b.SetClientID(ctx, act.server, act.clientID, act.secret)
	case actSetAutoApprove:
		r.err = u.b.SetAutoApprove(ctx, act.server, act.on)
	case actAddClient:
		r.key, r.err = u.b.AddClient(ctx, act.client)
	case actRemoveClient:
		r.err = u.b.RemoveClient(ctx, act.client)
	}
	return r
}

// report runs on the loop when a call ended.
func (u *ui) report(ctx context.Context, r result) {
	if r.act.kind == actSignIn {
		delete(u.busy, r.act.server)
	}
	if r.act.kind == actSetClientID && r.err == nil {
		u.handle(ctx, action{kind: actSignIn, server: r.act.server})
		return
	}
	o := outcomeOf(r)
	if o.kind == outcomeNone {
		return
	}
	if o.kind == outcomeError {
		u.log.Warn(o.title, "err", r.err)
	}
	key := r.key
	u.do(func() { u.win.showOutcome(o, key, u.app) })
}

func copyMap(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
