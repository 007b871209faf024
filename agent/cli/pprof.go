package cli

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
)

// startProfiles starts the profiles the environment asks for, for the
// bridges' performance work (docs/benchmarks.md, "Profiling"); the
// returned func writes them and must run before the process exits:
//
//	MCPAUTH_CPUPROFILE=FILE   a CPU profile of the whole run (go tool pprof)
//	MCPAUTH_MEMPROFILE=FILE   a heap profile at the end, every allocation sampled
//	MCPAUTH_TRACE=FILE        an execution trace (go tool trace)
//
// Only `mcpauth connect` and `mcpauth agent` read them. A file that can't
// be created is reported on stderr and the command runs unprofiled.
func startProfiles(getenv func(string) string, stderr io.Writer) (stop func()) {
	var stops []func()
	create := func(env string) *os.File {
		path := getenv(env)
		if path == "" {
			return nil
		}
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(stderr, "mcpauth: %s: %v\n", env, err)
			return nil
		}
		return f
	}
	if f := create("MCPAUTH_CPUPROFILE"); f != nil {
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "mcpauth: MCPAUTH_CPUPROFILE: %v\n", err)
		}
		stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if f := create("MCPAUTH_TRACE"); f != nil {
		if err := trace.Start(f); err != nil {
			fmt.Fprintf(stderr, "mcpauth: MCPAUTH_TRACE: %v\n", err)
		}
		stops = append(stops, func() { trace.Stop(); f.Close() })
	}
	if f := create("MCPAUTH_MEMPROFILE"); f != nil {
		runtime.MemProfileRate = 1
		stops = append(stops, func() {
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				fmt.Fprintf(stderr, "mcpauth: MCPAUTH_MEMPROFILE: %v\n", err)
			}
			f.Close()
		})
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
