// Package health serves the liveness and readiness checks of a service.
package health

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
)

// Checker reports whether the service may receive traffic.
type Checker struct {
	ready atomic.Bool
}

// SetReady marks the service ready or not ready.
func (c *Checker) SetReady(ok bool) {
	c.ready.Store(ok)
}

// Live answers 200 while the process runs.
func (c *Checker) Live(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusOK)
}

// Ready answers 200 when ready and 503 otherwise.
func (c *Checker) Ready(w http.ResponseWriter, r *http.Request) {
	status := http.StatusServiceUnavailable
	if c.ready.Load() {
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]bool{"ready": c.ready.Load()})
}
