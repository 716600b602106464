package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/cityid/cityid/internal/backup"
	"github.com/cityid/cityid/internal/buildinfo"
	"github.com/cityid/cityid/internal/chain"
)

// AdminSocketName is the node's admin socket in its data folder: a Unix
// socket that only the node's user (and root) may open, since it is made
// 0600 in a 0700 folder. It serves what the public API must not: a whole
// backup costs the node a full export of its state, so it is for the
// operator on the machine, not for anyone who reaches the HTTP port.
// Being a file, it needs no port and cannot be reached through a reverse
// proxy or from another network namespace.
const AdminSocketName = "admin.sock"

// AdminSocket is the path of the admin socket of the node of c.
func AdminSocket(c *Config) string { return filepath.Join(c.Comet.DBDir(), AdminSocketName) }

// Admin routes, on the admin socket only.
const (
	adminBackupPath = "/backup"
	// backupErrorTrailer carries an error met after the archive began:
	// the status was sent already. The archive then has no manifest,
	// so a client that ignores the trailer refuses it all the same.
	backupErrorTrailer = "X-Cityid-Backup-Error"
)

// adminServer serves the admin socket until close.
type adminServer struct {
	srv    *http.Server
	served chan struct{}
}

// serveAdmin listens on the admin socket. The node holds its home, so a
// socket file found there was left by a node that was killed: it is
// replaced.
func serveAdmin(c *Config, cn *chain.Node, log *slog.Logger) (*adminServer, error) {
	path := AdminSocket(c)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	ln, err := listenPrivate(path)
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+adminBackupPath, backupHandler(cn, log.With("module", "backup")))
	a := &adminServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}, served: make(chan struct{})}
	go func() {
		defer close(a.served)
		_ = a.srv.Serve(ln) // ends with ErrServerClosed at close
	}()
	return a, nil
}

// listenPrivate listens on a Unix socket at path that only this user
// can ever open: it is made in a folder of its own (0700), made 0600
// there, then renamed into place, so that no moment exists when the
// socket is at path with the process's file-mode mask (a data folder
// left open by an operator would otherwise expose it). The socket file is
// removed when the listener closes.
func listenPrivate(path string) (net.Listener, error) {
	dir, err := os.MkdirTemp(filepath.Dir(path), ".admin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "s")
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, err
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false) // it is renamed: closeUnlink removes it by its new name
	if err := os.Chmod(tmp, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		return nil, err
	}
	return &unlinkListener{Listener: ln, path: path}, nil
}

// unlinkListener removes its socket file once closed.
type unlinkListener struct {
	net.Listener
	path string
}

func (l *unlinkListener) Close() error {
	err := l.Listener.Close()
	if rerr := os.Remove(l.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}

// close stops the admin server; a backup being streamed is cut off after
// ctx (its archive, without a manifest, is refused by its reader).
func (a *adminServer) close(ctx context.Context) error {
	err := a.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, a.srv.Close())
	}
	<-a.served
	return err
}

// backupHandler streams a backup archive: GET /backup?height=H&blocks=true.
func backupHandler(cn *chain.Node, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		o := backup.Options{Blocks: q.Get("blocks") == "true", Software: "cityid " + buildinfo.Get().Version}
		if s := q.Get("height"); s != "" {
			h, err := strconv.ParseInt(s, 10, 64)
			if err != nil || h < 1 {
				http.Error(w, fmt.Sprintf("height %q is not a positive number", s), http.StatusBadRequest)
				return
			}
			o.Height = h
		}
		plan, err := backup.Prepare(r.Context(), cn.BackupSource(), o)
		var he *backup.HeightError
		switch {
		case errors.As(err, &he):
			http.Error(w, err.Error(), http.StatusConflict)
			return
		case err != nil:
			log.Error("backup refused", "err", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		began := time.Now()
		w.Header().Set("Content-Type", "application/x-tar")
		w.Header().Set("Trailer", backupErrorTrailer)
		man, err := plan.WriteTo(r.Context(), w)
		if err != nil {
			log.Error("backup cut off", "height", plan.Height(), "err", err)
			w.Header().Set(backupErrorTrailer, err.Error())
			return
		}
		log.Info("backup written", "height", man.Height, "app_hash", man.AppHash, "state_bytes", man.StateBytes,
			"entries", len(man.Files)+1, "took", time.Since(began).Round(time.Millisecond))
	}
}
