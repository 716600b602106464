package chain

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
)

// A clean stop's closed listeners are debug lines; any other CometBFT
// error stays a warning (issue 13).
func TestCometErrorsOfAStopAreDebug(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		kv   []any
		warn bool
	}{
		{"Error serving server", []any{"err", fmt.Errorf("accept tcp 127.0.0.1:26657: %w", net.ErrClosed)}, false},
		{"Stopped accept routine, as transport is closed", []any{"numPeers", 0}, false},
		{"Error serving server", []any{"err", errors.New("too many open files")}, true},
		{"Connection failed @ sendRoutine", []any{"conn", "x", "err", errors.New("broken pipe")}, true},
	} {
		var buf bytes.Buffer
		l := NewCometLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
		l.Error(tc.msg, tc.kv...)
		if got := strings.Contains(buf.String(), "level=WARN"); got != tc.warn {
			t.Errorf("%q %v: logged %q, want a warning %v", tc.msg, tc.kv, buf.String(), tc.warn)
		}
	}
}

// pebble's routine lines (a write-ahead log replayed on a restart) are
// debug lines of the node's logger, not Go's log package's.
func TestPebbleLinesAreDebug(t *testing.T) {
	var buf bytes.Buffer
	p := pebbleLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	p.Infof("[JOB %d] WAL file %s with log number %s stopped reading", 1, "000002.log", "000002")
	if out := buf.String(); !strings.Contains(out, "level=DEBUG") || !strings.Contains(out, `msg="[JOB 1] WAL file 000002.log`) {
		t.Errorf("pebble's Infof logged %q, want a debug line", out)
	}
}
