package node

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/cometbft/cometbft/types"

	"github.com/cityid/cityid/internal/backup"
	"github.com/cityid/cityid/internal/chain"
	"github.com/cityid/cityid/internal/fsx"
	"github.com/cityid/cityid/internal/store"
)

// BackupOptions say what Backup asks the node for.
type BackupOptions struct {
	Height int64 // 0: the latest height whose app hash a header carries
	Blocks bool
}

// NotRunningError is a backup asked of a home where no node runs.
type NotRunningError struct {
	Home string
	Err  error
}

func (e *NotRunningError) Error() string {
	return fmt.Sprintf("no node runs on %s (%v): a backup is read from a running node, over its admin socket; start it with `cityid start --home %s`", e.Home, e.Err, e.Home)
}

func (e *NotRunningError) Unwrap() error { return e.Err }

// Backup writes an archive of the running node of home to the file out,
// through the node's admin socket: the node goes on committing blocks
// while its state at the chosen height streams. The archive is checked as
// it arrives (everything but the state's root, which `cityid backup
// verify` checks by importing it) and written to a temporary file beside
// out, given that name only once whole and synced, never over a file
// (internal/fsx, NoReplace): out is never half written, and an existing
// out, even one created while the archive streams, is left as it was.
func Backup(ctx context.Context, home, out string, o BackupOptions) (backup.Manifest, error) {
	c, err := Load(home)
	if err != nil {
		return backup.Manifest{}, err
	}
	if _, err := os.Lstat(out); err == nil {
		return backup.Manifest{}, fmt.Errorf("%s exists: choose a new file for --out", out)
	}
	sock := AdminSocket(c)
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
	q := url.Values{}
	if o.Height > 0 {
		q.Set("height", strconv.FormatInt(o.Height, 10))
	}
	if o.Blocks {
		q.Set("blocks", "true")
	}
	// The host is a placeholder: the transport dials the socket.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://admin"+adminBackupPath+"?"+q.Encode(), nil)
	if err != nil {
		return backup.Manifest{}, fmt.Errorf("backup: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			// The dial's own error names the socket; the request's
			// placeholder URL would only confuse.
			var op *net.OpError
			if errors.As(err, &op) {
				err = op
			}
			return backup.Manifest{}, &NotRunningError{Home: home, Err: err}
		}
		return backup.Manifest{}, fmt.Errorf("backup: ask the node on %s: %w", sock, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		e := fmt.Errorf("backup: the node refused: %s", strings.TrimSpace(string(msg)))
		if resp.StatusCode == http.StatusConflict || resp.StatusCode == http.StatusBadRequest {
			return backup.Manifest{}, &BackupRefusedError{e}
		}
		return backup.Manifest{}, e
	}
	tmp, err := fsx.Create(out, 0o600, fsx.NoReplace)
	if err != nil {
		return backup.Manifest{}, fmt.Errorf("backup: %w", err)
	}
	defer tmp.Abort() // after Commit: nothing to do
	bw := bufio.NewWriterSize(tmp, 1<<20)
	a, err := backup.Read(io.TeeReader(resp.Body, bw), nil)
	if err != nil {
		if t := resp.Trailer.Get(backupErrorTrailer); t != "" {
			return backup.Manifest{}, fmt.Errorf("backup: the node stopped writing: %s", t)
		}
		return backup.Manifest{}, fmt.Errorf("backup: the archive received does not check: %w", err)
	}
	// What the tar reader left unread (the end-of-archive padding).
	if _, err := io.Copy(bw, resp.Body); err != nil {
		return backup.Manifest{}, fmt.Errorf("backup: %w", err)
	}
	if t := resp.Trailer.Get(backupErrorTrailer); t != "" {
		return backup.Manifest{}, fmt.Errorf("backup: the node stopped writing: %s", t)
	}
	if err := bw.Flush(); err != nil {
		return backup.Manifest{}, fmt.Errorf("backup: write %s: %w", out, err)
	}
	if err := tmp.Commit(); errors.Is(err, fs.ErrExist) {
		return backup.Manifest{}, fmt.Errorf("backup: %s was created while the archive was written; it is left as it was: choose a new file for --out", out)
	} else if err != nil {
		return backup.Manifest{}, fmt.Errorf("backup: %w", err)
	}
	return a.Manifest, nil
}

// BackupRefusedError is the node's refusal of the backup asked for (a
// height it does not hold or has not signed yet).
type BackupRefusedError struct{ Err error }

func (e *BackupRefusedError) Error() string { return e.Err.Error() }
func (e *BackupRefusedError) Unwrap() error { return e.Err }

// VerifyBackup reads the archive in file and checks all of it without a
// node, the state's root included: the state is imported into a
// temporary store beside the archive (on disk, not in memory), removed
// afterwards.
func VerifyBackup(file string) (_ *backup.Archive, err error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	// Beside the archive: /tmp is often memory (tmpfs), and a state of
	// millions of records is not.
	dir, err := os.MkdirTemp(filepath.Dir(file), ".cityid-verify-")
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
	st, err := store.Open(dir, store.Options{ValueCacheBytes: -1})
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	a, err := backup.Read(bufio.NewReaderSize(f, 1<<20), st)
	return a, errors.Join(err, st.Close())
}

// RestoreOptions say how Restore treats the home.
type RestoreOptions struct {
	// Force replaces the data of a home that holds a node already. Its
	// configuration, keys and validator's last-signed state stay.
	Force bool
	// Peers, when set, become the home's p2p.persistent_peers: the nodes
	// it catches up from.
	Peers string
	// TrustHash is the hash of the archive's signed header (height H+1),
	// as a node the operator trusts gives it (GET /v1/blocks/H+1): the
	// archive's own signatures prove only that its validators signed it.
	// Without it, the header must be signed by the genesis's validators.
	TrustHash string
	// NewHome is how a new home is made, as Init takes it: its listen
	// addresses (HTTP, RPC, P2P, DNS), written to its configuration so
	// that the first start and every command given the home use them (a
	// second node on one machine needs its own ports), and where its
	// keyring's passphrase comes from (--passphrase-file, as init). Its
	// ChainID, Import and Moniker are not used. A home that holds a node
	// keeps its configuration and keys: addresses for it are refused.
	NewHome InitOptions
	Log     *slog.Logger
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	Home       string `json:"home"`
	ChainID    string `json:"chain_id"`
	Height     int64  `json:"height"`
	AppHash    string `json:"app_hash"`
	HeaderHash string `json:"header_hash"`
	NewHome    bool   `json:"new_home"`
	Peers      string `json:"persistent_peers"`
}

// Restore brings the home up from the archive in file: a new home (made
// as init makes a full node's, with the archive's genesis), or with Force
// one that holds a node already. The archive is read and checked whole
// (backup.Read) while its state is imported into a staging folder in the
// home, whose root must be the signed app hash; CometBFT's stores are then
// bootstrapped at its height (backup.Bootstrap), and only then does the
// staging folder replace the home's data. A refused archive leaves the
// home as it was: the staging folder, and a new home's files, are removed.
// On its next start the node block-syncs from its peers after the
// archive's height.
func Restore(ctx context.Context, home, file string, o RestoreOptions) (res RestoreResult, err error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	f, err := os.Open(file)
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	existing := Initialized(home)
	if existing && !o.Force {
		return res, fmt.Errorf("restore: %s already holds a node; restoring replaces its data (its configuration, keys and validator state stay): add --force, or choose a new --home", home)
	}
	newHome := InitOptions{HTTP: o.NewHome.HTTP, RPC: o.NewHome.RPC, P2P: o.NewHome.P2P, DNS: o.NewHome.DNS, Keyring: o.NewHome.Keyring}
	if existing && newHome.HTTP+newHome.RPC+newHome.P2P+newHome.DNS != "" {
		return res, fmt.Errorf("restore: %s holds a node whose configuration stays: set its listen addresses in config/cityid.toml and config/config.toml, not with --http, --rpc, --p2p or --dns", home)
	}
	if !existing {
		if err := checkEmpty(home); err != nil {
			return res, fmt.Errorf("restore: %w", err)
		}
	}
	// The genesis first: a home of another network is refused before a
	// long import, and a new home needs it to load.
	gen, err := backup.ReadGenesis(f)
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	before, _ := os.ReadDir(home)
	lock, err := lockHome(home)
	if err != nil {
		var inUse *InUseError
		if errors.As(err, &inUse) {
			return res, fmt.Errorf("restore: %w: stop the node that runs on it first", err)
		}
		return res, fmt.Errorf("restore: %w", err)
	}
	defer func() { err = errors.Join(err, lock.release()) }()
	if !existing {
		// A new home that the restore does not finish is removed again,
		// but for what was there before (keys/, light/).
		defer func() {
			if err != nil {
				removeNew(home, before)
			}
		}()
		m, err := prepareHome(home, newHome)
		if err != nil {
			return res, fmt.Errorf("restore: %w", err)
		}
		// Checked with the rest of the archive before anything uses it.
		if err := os.WriteFile(m.config.Comet.GenesisFile(), gen, 0o600); err != nil {
			return res, fmt.Errorf("restore: write genesis: %w", err)
		}
	}
	c, err := Load(home)
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	if err := sameGenesis(c, gen); err != nil {
		return res, err
	}
	stage, err := os.MkdirTemp(home, ".restore-")
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(stage) // gone already once renamed into place
	staged := *c.Comet
	staged.BaseConfig.DBPath = stage
	st, err := store.Open(chain.StateDir(&staged), store.Options{ValueCacheBytes: -1})
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	a, err := backup.Read(bufio.NewReaderSize(f, 1<<20), st)
	if cerr := st.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("restore: close the state: %w", cerr)
	}
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	// An interrupt stops the restore before the home changes.
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	if err := sameGenesis(c, a.Genesis); err != nil { // the one Read checked
		return res, err
	}
	if err := trustArchive(a, o.TrustHash); err != nil {
		return res, err
	}
	if err := backup.Bootstrap(&staged, chain.DBProvider(o.Log.With("module", "pebble")), a); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	data := c.Comet.DBDir()
	// The validator's last-signed state stays what it was, so that a
	// validator restored never signs a height twice.
	if pvs := c.Comet.PrivValidatorStateFile(); filepath.Dir(pvs) == data {
		if b, err := os.ReadFile(pvs); err == nil {
			if err := os.WriteFile(filepath.Join(stage, filepath.Base(pvs)), b, 0o600); err != nil {
				return res, fmt.Errorf("restore: %w", err)
			}
		}
	}
	if o.Peers != "" {
		c.Comet.P2P.PersistentPeers = o.Peers
		if err := c.write(); err != nil {
			return res, fmt.Errorf("restore: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	// The swap: two renames, the old data removed only after the new is
	// in place.
	old := data + ".before-restore"
	if _, err := os.Lstat(old); err == nil {
		// A restore that stopped between its renames left the only copy
		// of the node's data here: never removed by another restore.
		return res, fmt.Errorf("restore: %s is there, left by a restore that did not finish: it may hold this node's only data; move it back to %s (or remove it) and run restore again", old, data)
	}
	if _, err := os.Stat(data); err == nil {
		if err := os.Rename(data, old); err != nil {
			return res, fmt.Errorf("restore: %w", err)
		}
	}
	if err := os.Rename(stage, data); err != nil {
		return res, fmt.Errorf("restore: put the restored data in place (the previous data is in %s): %w", old, err)
	}
	// The renames are durable before the old data goes.
	if err := fsx.SyncDir(filepath.Dir(data)); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	if err := os.RemoveAll(old); err != nil {
		return res, fmt.Errorf("restore: remove the previous data %s: %w", old, err)
	}
	return RestoreResult{Home: home, ChainID: a.Doc.ChainID, Height: a.Manifest.Height, AppHash: a.Manifest.AppHash,
		HeaderHash: a.Manifest.HeaderHash, NewHome: !existing, Peers: c.Comet.P2P.PersistentPeers}, nil
}

// trustArchive refuses an archive whose signed header is not known to be
// this network's. Read checked that the archive's validators signed it,
// but anyone can make validators: the root of trust is the operator's
// --trust-hash (the header's hash from a node they trust), or, without
// one, the genesis, whose validators must be the ones that signed (a
// network whose set never changed).
func trustArchive(a *backup.Archive, trustHash string) (err error) {
	hash := a.Signed.Header.Hash()
	if trustHash != "" {
		if !strings.EqualFold(trustHash, hash.String()) {
			return fmt.Errorf("restore: the archive's header %d has hash %s, not the --trust-hash %s: it is not the block you trust", a.Signed.Header.Height, hash, trustHash)
		}
		return nil
	}
	defer func() {
		// CometBFT's validator set panics on input it finds invalid.
		if p := recover(); p != nil {
			err = fmt.Errorf("restore: the genesis's validators: %v", p)
		}
	}()
	vals := make([]*types.Validator, len(a.Doc.Validators))
	for i, v := range a.Doc.Validators {
		vals[i] = types.NewValidator(v.PubKey, v.Power)
	}
	if bytes.Equal(types.NewValidatorSet(vals).Hash(), a.Signed.Header.ValidatorsHash) {
		return nil
	}
	h := a.Signed.Header.Height
	return fmt.Errorf("restore: the archive's header %d is signed by validators other than the genesis's (the set changed since): nothing in the archive tells it from a forgery; give --trust-hash, the hash of block %d from a node you trust (GET /v1/blocks/%d on it)", h, h, h)
}

// sameGenesis refuses a home whose genesis file is not gen, byte for byte.
func sameGenesis(c *Config, gen []byte) error {
	have, err := os.ReadFile(c.Comet.GenesisFile())
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if !bytes.Equal(have, gen) {
		return fmt.Errorf("restore: %s has another genesis than the archive's: a node restores only a backup of its own network", c.Home)
	}
	return nil
}

// removeNew removes what a home holds beyond the entries it had before.
func removeNew(home string, before []os.DirEntry) {
	had := map[string]bool{}
	for _, e := range before {
		had[e.Name()] = true
	}
	entries, _ := os.ReadDir(home)
	for _, e := range entries {
		if !had[e.Name()] && e.Name() != LockFileName {
			os.RemoveAll(filepath.Join(home, e.Name()))
		}
	}
}
