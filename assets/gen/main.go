//go:build ignore

// Generates assets/icon.png and assets/icon-attention.png, so the icons are
// reproducible from source: go run assets/gen/main.go
package main

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
)

func main() {
	write("assets/icon.png", color.RGBA{0x2b, 0x6c, 0xb0, 0xff}, false)
	write("assets/icon-attention.png", color.RGBA{0x2b, 0x6c, 0xb0, 0xff}, true)
}

// write draws a key on a rounded square; attention adds an orange dot.
func write(path string, bg color.RGBA, attention bool) {
	const n = 256
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	white := color.RGBA{0xff, 0xff, 0xff, 0xff}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			if !inRoundedSquare(fx, fy, n, 48) {
				continue
			}
			c := bg
			// key bow: a ring centred at (96,128)
			d := math.Hypot(fx-96, fy-128)
			if d < 52 && d > 24 {
				c = white
			}
			// shaft and teeth
			if fx > 140 && fx < 216 && fy > 118 && fy < 138 {
				c = white
			}
			if (fx > 176 && fx < 192 || fx > 200 && fx < 216) && fy >= 138 && fy < 166 {
				c = white
			}
			if attention && math.Hypot(fx-206, fy-50) < 34 {
				c = color.RGBA{0xf5, 0x9e, 0x0b, 0xff}
			}
			img.Set(x, y, c)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		panic(err)
	}
}

func inRoundedSquare(x, y float64, n, r float64) bool {
	cx := math.Max(r, math.Min(n-r, x))
	cy := math.Max(r, math.Min(n-r, y))
	return math.Hypot(x-cx, y-cy) <= r
}
