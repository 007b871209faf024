package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// load is `mcpbench load`: one target under a steady load, for profiling
// it by hand (docs/benchmarks.md, "Profiling"):
//
//	mcpbench load -url http://127.0.0.1:PORT/servers/NAME/mcp -auth "Bearer KEY" -d 20s
//	mcpbench load -size 1048576 -- mcpauth connect NAME
func load(args []string) int {
	fs := flag.NewFlagSet("mcpbench load", flag.ContinueOnError)
	url := fs.String("url", "", "a Streamable HTTP `URL` (else the command after -- is a stdio bridge)")
	auth := fs.String("auth", "", "the Authorization `header` for -url")
	size := fs.Int("size", 1024, "result `bytes` per tools/call")
	d := fs.Duration("d", 10*time.Second, "how long")
	c := fs.Int("c", 1, "concurrent sessions (processes for a stdio bridge)")
	first := fs.Int("first", 0, "one call with a result of this many `bytes` first, untimed (the state after a large result)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if (*url == "") == (fs.NArg() == 0) {
		fmt.Fprintln(os.Stderr, "mcpbench load: give -url or a command after --")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *d+time.Minute)
	defer cancel()
	var sessions []session
	for range *c {
		var s session
		if *url != "" {
			s = newHTTPSession(*url, *auth)
		} else {
			cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
			ss, err := startStdio(ctx, cmd)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			s = ss
		}
		if _, err := s.initialize(ctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer s.close()
		if *first > 0 {
			if _, err := s.call(ctx, "big", `{"size":`+strconv.Itoa(*first)+`}`); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		sessions = append(sessions, s)
	}
	args1 := `{"size":` + strconv.Itoa(*size) + `}`
	lat := make([][]float64, len(sessions))
	errs := make([]error, len(sessions))
	end := time.Now().Add(*d)
	var wg sync.WaitGroup
	for i, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				t := time.Now()
				if _, err := s.call(ctx, "big", args1); err != nil {
					errs[i] = err
					return
				}
				lat[i] = append(lat[i], ms(time.Since(t)))
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var all []float64
	for _, l := range lat {
		all = append(all, l...)
	}
	fmt.Printf("%d calls in %v: %.0f/s, p50 %s, p99 %s\n", len(all), *d, float64(len(all))/d.Seconds(),
		fmtMS(percentile(all, 50)), fmtMS(percentile(all, 99)))
	return 0
}
