package chain

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/cockroachdb/pebble"
	dbm "github.com/cometbft/cometbft-db"
	cfg "github.com/cometbft/cometbft/config"
)

// dbProvider opens CometBFT's databases as cfg.DefaultDBProvider does, but
// gives pebble (the default backend) a logger of its own: pebble's default
// writes to Go's log package, so every restart printed a line per replayed
// write-ahead log, unstructured, among the node's structured logs (issue
// 13). Those lines are routine and go to debug level.
func dbProvider(log *slog.Logger) cfg.DBProvider {
	return func(ctx *cfg.DBContext) (dbm.DB, error) {
		if dbm.BackendType(ctx.Config.DBBackend) != dbm.PebbleDBBackend {
			return cfg.DefaultDBProvider(ctx)
		}
		opts := &pebble.Options{Logger: pebbleLogger{log.With("db", ctx.ID)}}
		return dbm.NewPebbleDBWithOpts(ctx.ID, ctx.Config.DBDir(), opts)
	}
}

// pebbleLogger is pebble's Logger on slog.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...))
}

// Fatalf logs and exits, as pebble's own logger does: pebble calls it
// when it cannot go on (a folder that vanished), and expects no return.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...))
	os.Exit(1)
}
