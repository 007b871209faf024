package main

import (
	"slices"
	"sync"
)

// results holds one value per figure, target and round (a round's median
// or percentile); the report shows the median over rounds.
type results struct {
	mu     sync.Mutex
	Values map[string]map[string][]float64 `json:"values"` // figure → target → per round
}

func newResults() *results { return &results{Values: map[string]map[string][]float64{}} }

func (r *results) add(fig, mode string, v float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Values[fig] == nil {
		r.Values[fig] = map[string][]float64{}
	}
	r.Values[fig][mode] = append(r.Values[fig][mode], v)
}

// get returns the median over rounds.
func (r *results) get(fig, mode string) (float64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := r.Values[fig][mode]
	if len(v) == 0 {
		return 0, false
	}
	return median(v), true
}

// spread returns the smallest and largest round values.
func (r *results) spread(fig, mode string) (lo, hi float64, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := r.Values[fig][mode]
	if len(v) == 0 {
		return 0, 0, 0
	}
	return slices.Min(v), slices.Max(v), len(v)
}
