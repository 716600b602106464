package chain

import (
	"context"
	"errors"
	"log/slog"
	"net"

	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// cmtLogger adapts slog to CometBFT's logger. CometBFT's Info is chatty
// (several lines a block), so it is logged at slog's Debug; its Error at
// Warn, since in a network many of them (a peer gone, a timeout) are
// expected and handled.
type cmtLogger struct{ l *slog.Logger }

// NewCometLogger returns a CometBFT logger writing to l.
func NewCometLogger(l *slog.Logger) cmtlog.Logger { return cmtLogger{l} }

func (c cmtLogger) Debug(msg string, kv ...any) { c.log(slog.LevelDebug-4, msg, kv) }
func (c cmtLogger) Info(msg string, kv ...any)  { c.log(slog.LevelDebug, msg, kv) }
func (c cmtLogger) Error(msg string, kv ...any) {
	level := slog.LevelWarn
	if stopping(msg, kv) {
		level = slog.LevelDebug
	}
	c.log(level, msg, kv)
}
func (c cmtLogger) With(kv ...any) cmtlog.Logger {
	return cmtLogger{c.l.With(kv...)}
}

// stopping reports whether an Error of CometBFT's is the sound of a clean
// stop: its RPC and P2P listeners, closed under their accept loops, report
// the closed connection. A Ctrl-C must not end with a warning (issue 13);
// the same words while the node runs are not possible, since only a stop
// closes the listeners.
func stopping(msg string, kv []any) bool {
	if msg == "Stopped accept routine, as transport is closed" {
		return true
	}
	for _, v := range kv {
		if err, ok := v.(error); ok && errors.Is(err, net.ErrClosed) {
			return true
		}
	}
	return false
}

func (c cmtLogger) log(level slog.Level, msg string, kv []any) {
	ctx := context.Background()
	if c.l.Enabled(ctx, level) {
		c.l.Log(ctx, level, msg, kv...)
	}
}
