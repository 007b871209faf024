package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// The plot is drawn with the standard library and golang.org/x/image (Go
// fonts), which the module has already (fyne uses it): no gnuplot to
// install. Four panels of horizontal bars, one colour per target, log
// scales where mcp-remote is orders of magnitude away.

var modeColor = map[string]color.RGBA{
	mDirect:       {0x59, 0x59, 0x59, 0xff},
	mConnect:      {0x1f, 0x77, 0xb4, 0xff},
	mConnectAgent: {0x6b, 0xae, 0xd6, 0xff},
	mConnectTray:  {0x9e, 0xca, 0xe1, 0xff},
	mFloorStdio:   {0xbb, 0xbb, 0xbb, 0xff},
	mFloorHTTP:    {0xbb, 0xbb, 0xbb, 0xff},
	mBridge:       {0x2c, 0xa0, 0x2c, 0xff},
	mRemote:       {0xd6, 0x27, 0x28, 0xff},
	mRemoteNpx:    {0xff, 0x98, 0x96, 0xff},
	mLogin:        {0x94, 0x67, 0xbd, 0xff},
	mAgent:        {0x2c, 0xa0, 0x2c, 0xff},
}

type bar struct {
	label string
	value float64
	mode  string
}

type panel struct {
	title string
	unit  string
	log   bool
	bars  []bar
	fmt   func(float64) string
}

type canvas struct {
	img           *image.RGBA
	face, bold    font.Face
	small         font.Face
	lineH, smallH int
}

func newCanvas(w, h int) (*canvas, error) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	reg, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, err
	}
	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return nil, err
	}
	c := &canvas{img: img, lineH: 18, smallH: 14}
	if c.face, err = opentype.NewFace(reg, &opentype.FaceOptions{Size: 13, DPI: 72, Hinting: font.HintingFull}); err != nil {
		return nil, err
	}
	if c.small, err = opentype.NewFace(reg, &opentype.FaceOptions{Size: 11, DPI: 72, Hinting: font.HintingFull}); err != nil {
		return nil, err
	}
	if c.bold, err = opentype.NewFace(bold, &opentype.FaceOptions{Size: 15, DPI: 72, Hinting: font.HintingFull}); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *canvas) text(f font.Face, x, y int, s string, col color.Color) {
	d := &font.Drawer{Dst: c.img, Src: image.NewUniform(col), Face: f, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func (c *canvas) width(f font.Face, s string) int {
	return font.MeasureString(f, s).Ceil()
}

func (c *canvas) rect(r image.Rectangle, col color.Color) {
	draw.Draw(c.img, r, image.NewUniform(col), image.Point{}, draw.Src)
}

var (
	ink   = color.RGBA{0x22, 0x22, 0x22, 0xff}
	grey  = color.RGBA{0x88, 0x88, 0x88, 0xff}
	grid  = color.RGBA{0xe4, 0xe4, 0xe4, 0xff}
	frame = color.RGBA{0xbb, 0xbb, 0xbb, 0xff}
)

// drawPanel draws p in r: the title, then one bar per line with its
// label on the left and its value at its end.
func (c *canvas) drawPanel(r image.Rectangle, p panel) {
	c.text(c.bold, r.Min.X, r.Min.Y+16, p.title, ink)
	if len(p.bars) == 0 {
		c.text(c.face, r.Min.X, r.Min.Y+44, "not measured", grey)
		return
	}
	labelW := 0
	for _, b := range p.bars {
		labelW = max(labelW, c.width(c.face, b.label))
	}
	x0 := r.Min.X + labelW + 10
	x1 := r.Max.X - 80 // room for the value
	top := r.Min.Y + 30
	bottom := r.Max.Y - 30
	barH := min(22, (bottom-top)/len(p.bars)-4)
	lo, hi := axis(p)
	pos := func(v float64) int {
		var f float64
		if p.log {
			f = (math.Log10(math.Max(v, lo)) - math.Log10(lo)) / (math.Log10(hi) - math.Log10(lo))
		} else {
			f = v / hi
		}
		return x0 + int(f*float64(x1-x0))
	}
	// Grid and ticks.
	for _, t := range ticks(p, lo, hi) {
		x := pos(t)
		c.rect(image.Rect(x, top-2, x+1, bottom), grid)
		s := tickLabel(t)
		c.text(c.small, x-c.width(c.small, s)/2, bottom+13, s, grey)
	}
	c.text(c.small, x1+40-c.width(c.small, p.unit), bottom+27, p.unit, grey)
	c.rect(image.Rect(x0, top-2, x0+1, bottom), frame)
	for i, b := range p.bars {
		y := top + i*(barH+4)
		c.text(c.face, x0-10-c.width(c.face, b.label), y+barH/2+5, b.label, ink)
		end := max(pos(b.value), x0+2)
		col, ok := modeColor[b.mode]
		if !ok {
			col = color.RGBA{0x77, 0x77, 0x77, 0xff}
		}
		c.rect(image.Rect(x0+1, y, end, y+barH), col)
		c.text(c.face, end+5, y+barH/2+5, p.fmt(b.value), ink)
	}
}

// axis returns the scale's ends: decades for a log scale, a round number
// above the largest bar for a linear one.
func axis(p panel) (lo, hi float64) {
	mn, mx := math.Inf(1), 0.0
	for _, b := range p.bars {
		if b.value > 0 {
			mn = math.Min(mn, b.value)
		}
		mx = math.Max(mx, b.value)
	}
	if mx <= 0 {
		return 0.1, 1
	}
	if math.IsInf(mn, 1) {
		mn = mx
	}
	if p.log {
		mn = math.Max(mn, mx/1e4) // a near-zero bar doesn't stretch the scale
		lo = math.Pow(10, math.Floor(math.Log10(mn)))
		hi = math.Pow(10, math.Ceil(math.Log10(mx)))
		if hi <= lo {
			hi = lo * 10
		}
		return lo, hi
	}
	step := niceStep(mx / 5)
	return 0, math.Ceil(mx/step) * step
}

func niceStep(x float64) float64 {
	e := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*e >= x {
			return m * e
		}
	}
	return 10 * e
}

func ticks(p panel, lo, hi float64) []float64 {
	var ts []float64
	if p.log {
		for t := lo; t <= hi*1.0001; t *= 10 {
			ts = append(ts, t)
		}
		return ts
	}
	step := niceStep(hi / 5)
	for t := 0.0; t <= hi*1.0001; t += step {
		ts = append(ts, t)
	}
	return ts
}

func tickLabel(t float64) string {
	switch {
	case t >= 1000:
		return strconv.FormatFloat(t/1000, 'f', -1, 64) + "k"
	case t >= 1:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	return strconv.FormatFloat(t, 'g', 3, 64)
}

func (rep *report) plot() ([]byte, error) {
	get := func(fig, mode string) (float64, bool) { return rep.get(fig, mode) }
	barsFor := func(fig string, modes []string, label func(string) string) []bar {
		var bs []bar
		for _, m := range modes {
			if v, ok := get(fig, m); ok {
				bs = append(bs, bar{label(m), v, m})
			}
		}
		return bs
	}
	name := func(m string) string {
		if m == mDirect || m == mBridge {
			return modeName(m) + " (no spawn)"
		}
		return modeName(m)
	}
	var lat []bar
	for _, size := range []string{"1k", "1m"} {
		for _, m := range []string{mDirect, mFloorStdio, mConnect, mFloorHTTP, mBridge, mRemote} {
			if v, ok := get("lat_"+size+"_p50", m); ok {
				lbl := map[string]string{"1k": "1 KB", "1m": "1 MB"}[size]
				lat = append(lat, bar{lbl + " · " + modeName(m), v, m})
			}
		}
	}
	var tput []bar
	for _, l := range rep.b.cfg.sz.Levels {
		for _, m := range []string{mDirect, mConnect, mBridge, mRemote} {
			if v, ok := get("tput_"+strconv.Itoa(l), m); ok {
				tput = append(tput, bar{fmt.Sprintf("%d × %s", l, modeName(m)), v, m})
			}
		}
	}
	var rss []bar
	for _, m := range []string{mConnect, mConnectAgent, mConnectTray, mBridge, mRemote} {
		if v, ok := get("rss_peak", m); ok {
			lbl := "peak · " + modeName(m)
			if m == mBridge {
				lbl = "peak · agent (HTTP bridge)"
			}
			rss = append(rss, bar{lbl, v, m})
		}
	}
	for _, m := range []string{mConnect, mBridge, mRemote} {
		if v, ok := get("rss_growth", m); ok {
			rss = append(rss, bar{"10 MB growth · " + modeName(m), v, m})
		}
	}
	spawn := barsFor("spawn", []string{mDirect, mBridge, mConnect, mConnectAgent, mConnectTray, mFloorStdio, mRemote, mRemoteNpx}, name)
	for _, m := range []string{mLogin, mConnect, mRemote} {
		if v, ok := get("cold", m); ok {
			spawn = append(spawn, bar{"cold · " + modeName(m), v, m})
		}
	}
	panels := []panel{
		{"Spawn → initialize, warm; cold login (browser excluded)", "ms", true, spawn, fmtMS},
		{"tools/call round trip, p50", "ms", true, lat, fmtMS},
		{"Throughput, 1 KB results (c concurrent clients)", "calls/s", false, tput, func(v float64) string { return fmt.Sprintf("%.0f/s", v) }},
		{"Bridge process memory", "MiB", true, rss, fmtMiB},
	}
	rowH := func(a, b panel) int { return 30 + max(len(a.bars), len(b.bars), 1)*26 + 40 }
	top, bottom := rowH(panels[0], panels[1]), rowH(panels[2], panels[3])
	const w = 1400
	h := 60 + top + 20 + bottom + 10
	c, err := newCanvas(w, h)
	if err != nil {
		return nil, err
	}
	title := "mcpauth bridges vs a direct connection and mcp-remote"
	if rep.b.cfg.smoke {
		title += " (SMOKE RUN: meaningless figures)"
	}
	c.text(c.bold, 20, 24, title, ink)
	c.text(c.small, 20, 42, fmt.Sprintf("medians of %d rounds, %s; log scales except throughput; see benchmarks.md",
		rep.b.cfg.sz.Rounds, rep.b.started.Format("2006-01-02")), grey)
	cells := []image.Rectangle{
		image.Rect(20, 60, w/2-20, 60+top),
		image.Rect(w/2+20, 60, w-20, 60+top),
		image.Rect(20, 80+top, w/2-20, h-10),
		image.Rect(w/2+20, 80+top, w-20, h-10),
	}
	for i, p := range panels {
		c.drawPanel(cells[i], p)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, c.img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
