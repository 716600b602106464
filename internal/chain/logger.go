package chain

import (
	"context"
	"log/slog"

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
func (c cmtLogger) Error(msg string, kv ...any) { c.log(slog.LevelWarn, msg, kv) }
func (c cmtLogger) With(kv ...any) cmtlog.Logger {
	return cmtLogger{c.l.With(kv...)}
}

func (c cmtLogger) log(level slog.Level, msg string, kv []any) {
	ctx := context.Background()
	if c.l.Enabled(ctx, level) {
		c.l.Log(ctx, level, msg, kv...)
	}
}
