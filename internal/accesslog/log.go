package accesslog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/cityid/cityid/internal/fsx"
)

// Bounds, with their reasons.
const (
	// MaxFieldBytes is how much of each text field an entry keeps. Range and
	// Remote come from the request; a bound keeps a hostile header from
	// growing the log, and the longest honest value (a public key, a
	// dataset identifier, a few ranges) is far below it.
	MaxFieldBytes = 1024
	// MaxDatasetBytes bounds a dataset name (an identifier is at most 85
	// characters); its file name must also fit the usual 255-byte limit of
	// a path element (maxFileName).
	MaxDatasetBytes = 128
	maxFileName     = 255
	// MaxLineBytes bounds one line, written and read back: the fields of
	// MaxFieldBytes, JSON-escaped, and the request as signed (target and
	// signature fields, bounded by the node's header size and
	// share.MaxSignatureFields) fit; a longer entry is refused, never
	// written, and a longer line read is not ours.
	MaxLineBytes = 128 << 10
	// MaxPage is the most entries one Entries call returns.
	MaxPage = 10000
	// indexEvery is how many lines apart Entries can start reading: an
	// offset per 1024 entries is 8 KB of memory for a million entries.
	indexEvery = 1024
	// DeferredSyncEvery bounds how long an entry of AppendDeferred waits
	// for an fsync when no other comes first: under a stream of refusals
	// a dataset's file is fsynced about once a second, not once a
	// refusal, and a crash takes back about a second of them at most.
	DeferredSyncEvery = time.Second
	// maxTornSpan bounds how far apart in time the entries a load sets
	// aside after zero bytes may be (tornTail). A crash takes back only
	// lines no fsync covered: those written since the last fsync began,
	// which AppendDeferred's timer starts at most DeferredSyncEvery after
	// the first of them, and an Append at once; with an fsync that may
	// take seconds on a loaded disk, and one more group commit queued
	// behind it, ten times DeferredSyncEvery leaves a wide margin. Entries
	// further apart were not all waiting for one fsync: not a crash's tail.
	maxTornSpan = 10 * DeferredSyncEvery
	// maxTornLines bounds how many lines a load sets aside after zero
	// bytes: the lines of maxTornSpan at the few thousand requests a
	// second a node answers. More is damage, not a crash's tail.
	maxTornLines = 20000
	// deferredMostLines is how many lines may wait for an fsync before
	// AppendDeferred makes them durable itself: a quarter of maxTornLines,
	// so the limit a load holds a crash's tail to is one the log keeps.
	deferredMostLines = maxTornLines / 4
	// markSuffix names the side file holding how much of a log was last
	// fsynced (its durable mark): what a later load never cuts.
	markSuffix = ".durable"
)

// ErrHeld is what an append to a held dataset's log returns (Hold).
var ErrHeld = errors.New("access log held")

// Options for OpenWithOptions. The zero value is usable.
type Options struct {
	// Now is the clock that dates entries without a Time (default time.Now).
	Now func() time.Time
	// Note receives what the log did on its own, such as cutting a torn
	// last line (default: kept for Notes only).
	Note func(msg string)
}

// Log is the access logs of every dataset under one directory. Safe for
// concurrent use: appends to one dataset are serialised, different datasets
// proceed side by side. Close releases its files.
type Log struct {
	root string
	opts Options

	mu   sync.Mutex             // sets only; never held while taking a dataset's locks
	sets map[string]*datasetLog // by dataset, loaded on first use

	notesMu sync.Mutex // notes only: taken under a dataset's lock
	notes   []string

	syncs atomic.Uint64 // fsyncs of log files, for Syncs
}

// datasetLog is one dataset's file and where its chain stands.
//
// Appends commit in groups: each writes its line under mu, then waits for
// an fsync that began after its write. One fsync at a time runs (syncMu),
// and it covers every line written before it began, so concurrent requests
// to one dataset share fsyncs instead of queueing for one each. Only what
// is durable is shown (Head, Entries): an anchor never names an entry a
// crash could take back.
type datasetLog struct {
	mu     sync.Mutex // the file's end and the fields below
	syncMu sync.Mutex // held while an fsync runs; taken before mu
	path   string
	loaded bool
	f      *os.File // open for appending once the file exists
	seq    uint64   // entries written to the file
	head   string   // hash of the last written entry, ZeroHash if none
	size   int64    // bytes of complete lines written: where the next starts
	// granted is the last entry written that names a grantee.
	granted  uint64
	durSeq   uint64 // the same four, for what an fsync made durable
	durHead  string
	durSize  int64
	durGrant uint64
	broken   error // why the chain on disk must not be extended
	// vouched is the most of the file this process made durable, kept
	// across loads (a Close, a load refused): tornTail cuts nothing in it.
	vouched int64
	// mark is the side file (markSuffix) where each fsync's durable size
	// is written, so that a load after a restart knows it too (markAt).
	mark *os.File
	// held, when set, is why appends are refused (Hold).
	held error
	// index[k] is where line k*indexEvery+1 starts, so a page deep in a
	// long log is read from near its start, not from the file's.
	index []int64
	// timer, when set, fsyncs the lines AppendDeferred wrote
	// DeferredSyncEvery after the first of them (flushDeferred).
	timer *time.Timer
	syncs *atomic.Uint64 // the Log's count
}

// Open opens (creating if needed) the logs under root.
func Open(root string) (*Log, error) { return OpenWithOptions(root, Options{}) }

// OpenWithOptions is Open with a clock and a place for notes.
func OpenWithOptions(root string, opts Options) (*Log, error) {
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("accesslog: create %s: %w", root, err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Log{root: root, opts: opts, sets: map[string]*datasetLog{}}, nil
}

// Notes returns what the log noted so far (torn lines cut off), oldest first.
func (l *Log) Notes() []string {
	l.notesMu.Lock()
	defer l.notesMu.Unlock()
	return slices.Clone(l.notes)
}

func (l *Log) note(msg string) {
	l.notesMu.Lock()
	l.notes = append(l.notes, msg)
	l.notesMu.Unlock()
	if l.opts.Note != nil {
		l.opts.Note(msg)
	}
}

// Syncs returns how many times the log fsynced its files: what refused
// requests cost is measured by it (AppendDeferred).
func (l *Log) Syncs() uint64 { return l.syncs.Load() }

// Close makes every written line durable and closes every open log file.
// The Log stays usable: a later call opens the file again.
func (l *Log) Close() error {
	l.mu.Lock()
	sets := make([]*datasetLog, 0, len(l.sets))
	for _, d := range l.sets {
		sets = append(sets, d)
	}
	l.mu.Unlock()
	// In file order, so the errors read the same each time.
	slices.SortFunc(sets, func(a, b *datasetLog) int { return strings.Compare(a.path, b.path) })
	var errs []error
	for _, d := range sets {
		// After any fsync under way, and with a last one, so that an
		// Append waiting for its fsync finds its line durable.
		d.syncMu.Lock()
		d.mu.Lock()
		if d.timer != nil {
			// The fsync below covers what it would have.
			d.timer.Stop()
			d.timer = nil
		}
		if d.f != nil {
			if d.durSize < d.size && d.broken == nil {
				d.syncs.Add(1)
				if err := d.f.Sync(); err != nil {
					errs = append(errs, fmt.Errorf("accesslog: fsync %s: %w", d.path, err))
				} else {
					d.durSeq, d.durHead, d.durSize, d.durGrant = d.seq, d.head, d.size, d.granted
					d.writeMark(d.size)
				}
			}
			if err := d.f.Close(); err != nil {
				errs = append(errs, fmt.Errorf("accesslog: close %s: %w", d.path, err))
			}
			d.f = nil
		}
		if d.mark != nil {
			// Durable now, so that a load after a clean stop knows the
			// whole file was (between fsyncs it is a lower bound only).
			if err := d.mark.Sync(); err != nil {
				errs = append(errs, fmt.Errorf("accesslog: fsync %s: %w", d.path+markSuffix, err))
			}
			if err := d.mark.Close(); err != nil {
				errs = append(errs, fmt.Errorf("accesslog: close %s: %w", d.path+markSuffix, err))
			}
			d.mark = nil
		}
		d.loaded = false
		d.mu.Unlock()
		d.syncMu.Unlock()
	}
	return errors.Join(errs...)
}

func checkDataset(dataset string) error {
	if dataset == "" || len(dataset) > MaxDatasetBytes || !utf8.ValidString(dataset) || len(FileName(dataset)) > maxFileName {
		return fmt.Errorf("accesslog: dataset %q: empty, longer than %d bytes, not UTF-8 or too long a file name", clip(dataset), MaxDatasetBytes)
	}
	return nil
}

// dataset returns the dataset's log, its chain loaded from disk.
func (l *Log) dataset(dataset string) (*datasetLog, error) {
	if err := checkDataset(dataset); err != nil {
		return nil, err
	}
	l.mu.Lock()
	d := l.sets[dataset]
	if d == nil {
		d = &datasetLog{path: filepath.Join(l.root, FileName(dataset)), syncs: &l.syncs}
		l.sets[dataset] = d
	}
	l.mu.Unlock()
	return d, nil
}

// load reads the file once: where the chain stands, a tail a crash left
// cut off (cutTail). Called with d.mu held.
func (l *Log) load(d *datasetLog, dataset string) error {
	if d.loaded {
		return nil
	}
	// What this process made durable itself, from an earlier load of the
	// file (before a Close): zero bytes there are not a crash's doing.
	d.vouched = max(d.vouched, d.durSize)
	known := d.vouched
	if marked, err := readMark(d.path + markSuffix); err != nil {
		l.note(fmt.Sprintf("accesslog: %s: durable mark not read, not relied on: %v", d.path, err))
	} else {
		known = max(known, marked)
	}
	d.seq, d.head, d.size, d.broken, d.granted = 0, ZeroHash, 0, nil, 0
	d.durSeq, d.durHead, d.durSize, d.durGrant = 0, ZeroHash, 0, 0
	d.index = d.index[:0]
	f, err := os.OpenFile(d.path, os.O_RDWR|os.O_APPEND, 0)
	if errors.Is(err, fs.ErrNotExist) {
		d.loaded = true // created by the first Append
		if known > 0 {
			// Removed after entries were made durable: as a log cut
			// short (below), never started again under their numbers.
			d.broken = fmt.Errorf("accesslog: %s is gone, after %d bytes of it were made durable (%s): repair it by hand (and remove %s if the dataset's log is to start anew)", d.path, known, d.path+markSuffix, d.path+markSuffix)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("accesslog: open %s: %w", d.path, err)
	}
	var last Entry
	size, torn, err := scan(f, d.path, 0, func(n uint64, start int64, e Entry) error {
		if (n-1)%indexEvery == 0 {
			d.index = append(d.index, start)
		}
		if d.broken == nil {
			d.broken = chainProblem(d.path, n, e, dataset, last)
		}
		last = e
		d.seq, d.head = n, e.Hash
		if e.Grantee != "" {
			d.granted = n
		}
		return nil
	})
	var zeros *zeroError
	switch {
	case errors.As(err, &zeros):
		// Zero bytes are never written (JSON escapes a NUL), so they are
		// bytes no fsync made durable, which only a crash leaves, and
		// only after the last durable point (tornTail).
		if err := l.tornTail(f, d, dataset, zeros, known, last); err != nil {
			f.Close()
			return err
		}
		size = zeros.start
	case err != nil:
		f.Close()
		return err
	case torn > 0 && size < known:
		f.Close()
		return fmt.Errorf("accesslog: %s line %d: no newline, inside what was made durable (%d bytes): damaged after the fact, not by a crash; repair it by hand", d.path, d.seq+1, known)
	case size+torn < known && d.broken == nil:
		// Cut after the fact, by hand or by a file system repair, never
		// by a crash: entries acknowledged, maybe anchored, are gone, and
		// the next appended would take their numbers with other hashes.
		// Served as it is, as an edited log is, but never extended.
		d.broken = fmt.Errorf("accesslog: %s is %d bytes, shorter than the %d made durable (%s): damaged after the fact, not by a crash; repair it by hand (and remove %s if it is whole again)", d.path, size+torn, known, d.path+markSuffix, d.path+markSuffix)
	case torn > 0:
		// Never acknowledged: Append returns only after the newline is
		// fsynced (and AppendDeferred's entries are no one's receipt).
		// Cut it so the next line starts clean.
		aside, err := l.cutTail(f, d, size)
		if err != nil {
			// Most likely a full disk. A torn line is no one's entry
			// (above): refusing the log over it would stop the dataset
			// where a plain cut, as before side files, loses nothing.
			if terr := cutOnly(f, d.path, size); terr != nil {
				f.Close()
				return errors.Join(err, terr)
			}
			l.note(fmt.Sprintf("accesslog: %s: cut off a torn last line of %d bytes after entry %d (a write cut by a crash, never acknowledged); its bytes were not kept: %v", d.path, torn, d.seq, err))
			break
		}
		l.note(fmt.Sprintf("accesslog: %s: cut off a torn last line of %d bytes after entry %d (a write cut by a crash, never acknowledged); kept in %s", d.path, torn, d.seq, aside))
	}
	// What was read back is on disk; fsync it once in case it was written
	// by a process that died before its own fsync.
	d.syncs.Add(1)
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("accesslog: fsync %s: %w", d.path, err)
	}
	d.f, d.size, d.loaded = f, size, true
	d.durSeq, d.durHead, d.durSize, d.durGrant = d.seq, d.head, size, d.granted
	if size >= known {
		// Never lowered: a log cut short stays refused until repaired.
		d.writeMark(size)
	}
	return nil
}

// Hold makes appends to the dataset's log fail with ErrHeld and why (nil
// releases it): for a log that no longer matches what was anchored of it,
// which any entry appended would fork (share.Anchoring). Reads go on.
func (l *Log) Hold(dataset string, why error) error {
	d, err := l.dataset(dataset)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.held = why
	d.mu.Unlock()
	return nil
}

// Held says why appends to the dataset's log are refused (Hold), nil when
// they are not.
func (l *Log) Held(dataset string) error {
	d, err := l.dataset(dataset)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.held
}

// markLen is the length of a durable mark: the size in 20 digits, a space,
// its CRC-32 in 8 hex digits and a newline, written in place at offset 0,
// so a file that exists never reads back zeroed, and a torn write does not
// check.
const markLen = 20 + 1 + 8 + 1

func markText(size int64) []byte {
	digits := fmt.Sprintf("%020d", size)
	return fmt.Appendf(nil, "%s %08x\n", digits, crc32.ChecksumIEEE([]byte(digits)))
}

// readMark reads a durable mark: 0 when there is none.
func readMark(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) != markLen {
		return 0, fmt.Errorf("%s: %d bytes, not a mark", path, len(b))
	}
	size, err := strconv.ParseInt(string(b[:20]), 10, 64)
	if err != nil || size < 0 || !bytes.Equal(b, markText(size)) {
		return 0, fmt.Errorf("%s: not a mark (a write cut short)", path)
	}
	return size, nil
}

// writeMark records that the file is durable up to size. Not fsynced
// here: an fsync each would double the cost of a commit, and a mark lost
// in a crash is an older, smaller one, which is still true (the file only
// grows, and a load cuts only after the mark). Close fsyncs it. Failing
// to write it is not an append's failure for the same reason: the next
// fsync writes it again. Called with d.mu held.
func (d *datasetLog) writeMark(size int64) {
	if d.mark == nil {
		m, err := os.OpenFile(d.path+markSuffix, os.O_RDWR|os.O_CREATE, 0o640)
		if err != nil {
			return
		}
		d.mark = m
	}
	_, _ = d.mark.WriteAt(markText(size), 0)
}

// tornTail cuts the file from the line holding its first zero byte, when
// that is provably a tail no Append acknowledged, or says why not.
//
// Why it is: lines are written in file order under d.mu, and an Append
// returns only once an fsync that began after its line was written has
// ended (commit); that fsync made every byte before the line's end
// durable, and so did every fsync since (Close's, load's, a read's). A
// byte never made durable, which a crash leaves zero on a file system
// that wrote a later page first (XFS, out-of-order completion), thus lies
// after the end of every acknowledged line, and of every entry Head,
// Status or Entries showed, so of every anchor. The line holding it, and
// every line after, was never acknowledged.
//
// What is not a crash's tail is refused as any damage is: zeros inside
// what was made durable (known: by this process, or by any, as its durable
// mark says), or, after them, a complete line without zeros that is not an
// entry of the dataset numbered after the kept ones, in order (the writer
// wrote nothing else), or a stretch longer than a crash takes back
// (maxTornLines lines, entries more than maxTornSpan apart): zeros in the
// middle of an older log, with every later entry intact after them, are a
// damaged disk block, and cutting there would cut acknowledged and anchored
// entries.
func (l *Log) tornTail(f *os.File, d *datasetLog, dataset string, z *zeroError, known int64, last Entry) error {
	kept := last.Seq
	if z.start < known {
		return fmt.Errorf("accesslog: %s line %d: zero bytes inside what was made durable (%d bytes): damaged after the fact, not by a crash; repair it by hand", d.path, z.line, known)
	}
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("accesslog: %s: %w", d.path, err)
	}
	if err := checkTail(io.NewSectionReader(f, z.start, end-z.start), d.path, z.line, dataset, kept); err != nil {
		return err
	}
	aside, err := l.cutTail(f, d, z.start)
	if err != nil {
		return err
	}
	l.note(fmt.Sprintf("accesslog: %s: cut off a torn tail of %d bytes from line %d on, after entry %d (zero bytes: pages a crash left unwritten, so nothing from there was acknowledged); kept in %s", d.path, end-z.start, z.line, kept, aside))
	return nil
}

// checkTail says whether r, the file from line first (which holds zero
// bytes) to its end, is what a crash leaves of lines written after the
// kept entries: zeroed stretches, and whole lines of the dataset's
// entries numbered above kept, in increasing order. A last line without
// its newline is torn and not looked at.
func checkTail(r io.Reader, path string, first uint64, dataset string, kept uint64) error {
	br := bufio.NewReaderSize(r, MaxLineBytes)
	n, prev := first, kept
	var zero, long bool // of the line being read, across ReadSlice's chunks
	// The earliest and latest times of the entries read, and where.
	var early, late time.Time
	var earlyAt, lateAt uint64
	for {
		chunk, err := br.ReadSlice('\n')
		zero = zero || bytes.IndexByte(chunk, 0) >= 0
		if n-first >= maxTornLines && (err == nil || err == io.EOF && len(chunk) > 0) {
			return fmt.Errorf("accesslog: %s: more than %d lines from line %d (zero bytes) on, more than a crash takes back: damaged after the fact, not by a crash; repair it by hand", path, maxTornLines, first)
		}
		switch {
		case err == io.EOF:
			if late.Sub(early) > maxTornSpan {
				return fmt.Errorf("accesslog: %s lines %d and %d, after zero bytes at line %d: entries %s apart, more than the %s a crash takes back: damaged after the fact, not by a crash; repair it by hand", path, earlyAt, lateAt, first, late.Sub(early), maxTornSpan)
			}
			return nil
		case errors.Is(err, bufio.ErrBufferFull):
			long = true
			continue
		case err != nil:
			return fmt.Errorf("accesslog: read %s line %d: %w", path, n, err)
		}
		switch {
		case zero:
		case long:
			return fmt.Errorf("accesslog: %s line %d, after zero bytes at line %d: longer than %d bytes, not a line of this log: not a torn tail; repair it by hand", path, n, first, MaxLineBytes)
		default:
			e, perr := parseLine(chunk)
			switch {
			case perr != nil:
				return fmt.Errorf("accesslog: %s line %d, after zero bytes at line %d: %w: not a torn tail; repair it by hand", path, n, first, perr)
			case e.Dataset != dataset || e.Seq <= prev:
				return fmt.Errorf("accesslog: %s line %d, after zero bytes at line %d: entry %d of dataset %q does not follow entry %d: not a torn tail; repair it by hand", path, n, first, e.Seq, clip(e.Dataset), prev)
			}
			prev = e.Seq
			at, terr := time.Parse(time.RFC3339Nano, e.Time)
			if terr != nil {
				// The node dates every entry it writes (Append).
				return fmt.Errorf("accesslog: %s line %d, after zero bytes at line %d: time %q: %w: not a torn tail; repair it by hand", path, n, first, clip(e.Time), terr)
			}
			if early.IsZero() || at.Before(early) {
				early, earlyAt = at, n
			}
			if late.IsZero() || at.After(late) {
				late, lateAt = at, n
			}
		}
		n++
		zero, long = false, false
	}
}

// cutTail keeps the file's bytes from `from` on in a side file, durably,
// then cuts them from the log: nothing is destroyed, and the next line
// starts clean. It returns the side file's path.
func (l *Log) cutTail(f *os.File, d *datasetLog, from int64) (string, error) {
	stamp := l.opts.Now().UTC().Format("20060102T150405.000000000Z")
	var side *os.File
	var aside string
	for i := 0; side == nil; i++ {
		aside = d.path + ".torn-" + stamp
		if i > 0 {
			aside += fmt.Sprintf("-%d", i)
		}
		s, err := os.OpenFile(aside, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
		switch {
		case err == nil:
			side = s
		case !errors.Is(err, fs.ErrExist) || i >= 100:
			return "", fmt.Errorf("accesslog: keep the torn tail of %s: %w", d.path, err)
		}
	}
	end, err := f.Seek(0, io.SeekEnd)
	if err == nil {
		_, err = io.Copy(side, io.NewSectionReader(f, from, end-from))
	}
	if err == nil {
		err = side.Sync()
	}
	if cerr := side.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsx.SyncDir(l.root)
	}
	if err != nil {
		// The log is left as it was, whole; a side file half written
		// would only mislead whoever repairs it.
		if rerr := os.Remove(aside); rerr != nil {
			err = errors.Join(err, fmt.Errorf("remove the partial copy: %w", rerr))
		}
		return "", fmt.Errorf("accesslog: keep the torn tail of %s in %s: %w", d.path, aside, err)
	}
	if err := cutOnly(f, d.path, from); err != nil {
		return "", err
	}
	return aside, nil
}

// cutOnly cuts the file at from, durably.
func cutOnly(f *os.File, path string, from int64) error {
	if err := f.Truncate(from); err != nil {
		return fmt.Errorf("accesslog: cut the torn tail of %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("accesslog: fsync %s: %w", path, err)
	}
	return nil
}

// chainProblem says why entry n (line n) does not extend the chain.
func chainProblem(path string, n uint64, e Entry, dataset string, prev Entry) error {
	prevHash := ZeroHash
	if n > 1 {
		prevHash = prev.Hash
	}
	switch {
	case e.Seq != n:
		return fmt.Errorf("accesslog: %s line %d: entry numbered %d", path, n, e.Seq)
	case e.Dataset != dataset:
		return fmt.Errorf("accesslog: %s line %d: entry of dataset %q", path, n, clip(e.Dataset))
	case e.Prev != prevHash:
		return fmt.Errorf("accesslog: %s line %d: prev is not line %d's hash", path, n, n-1)
	case e.Hash != e.ComputeHash():
		return fmt.Errorf("accesslog: %s line %d: hash does not match the entry", path, n)
	}
	return nil
}

// scan reads complete lines from r's start, line firstLine+1 of the
// file, calling fn with each entry, its line number and where it starts in
// r. It returns the bytes of complete lines and the length of a last line
// without its newline (torn). A line that is not an entry is an error
// naming the file and line; a *zeroError when it holds zero bytes.
func scan(r io.Reader, path string, firstLine uint64, fn func(n uint64, start int64, e Entry) error) (size, torn int64, err error) {
	br := bufio.NewReaderSize(r, MaxLineBytes)
	n := firstLine
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case err == io.EOF:
			return size, int64(len(line)), nil
		case (err == nil || errors.Is(err, bufio.ErrBufferFull)) && bytes.IndexByte(line, 0) >= 0:
			return 0, 0, &zeroError{path: path, line: n + 1, start: size}
		case errors.Is(err, bufio.ErrBufferFull):
			return 0, 0, fmt.Errorf("accesslog: %s line %d: longer than %d bytes", path, n+1, MaxLineBytes)
		case err != nil:
			return 0, 0, fmt.Errorf("accesslog: read %s line %d: %w", path, n+1, err)
		}
		n++
		e, perr := parseLine(line)
		if perr != nil {
			return 0, 0, fmt.Errorf("accesslog: %s line %d: %w", path, n, perr)
		}
		if err := fn(n, size, e); err != nil {
			return 0, 0, err
		}
		size += int64(len(line))
	}
}

// zeroError is a line holding zero bytes, which no entry's line does
// (JSON escapes them): bytes a crash left unwritten (tornTail).
type zeroError struct {
	path  string
	line  uint64 // its number
	start int64  // where it starts in the file
}

func (e *zeroError) Error() string {
	return fmt.Sprintf("accesslog: %s line %d: zero bytes, not an entry", e.path, e.line)
}

func parseLine(line []byte) (Entry, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var e Entry
	if err := dec.Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("not an entry: %w", err)
	}
	if dec.More() {
		return Entry{}, errors.New("not an entry: more than one JSON value")
	}
	return e, nil
}

// Append fills e's Seq, Prev and Hash (and Time, when empty, from the
// clock), writes it as one line and fsyncs before returning: an entry Append
// returned survives a crash. Text fields are kept to MaxFieldBytes of valid
// UTF-8 (invalid bytes become U+FFFD), so what is hashed is exactly what
// reads back. It refuses to extend a log whose chain on disk does not hold.
func (l *Log) Append(e Entry) (Entry, error) { return l.append(e, false) }

// AppendDeferred is Append without waiting for the fsync: the line is
// written in its place in the chain and made durable by the next fsync of
// the dataset's file, which covers every line before it: an Append's, a
// read of the log (Status, Head, Entries: so an anchor or a page shows
// it), Close, or at the latest one DeferredSyncEvery after the first line
// that waits (a timer, so a stream of them costs one fsync a second). It is for entries nobody holds a receipt of, such as
// refused requests, so that a stream of them cannot make the node fsync
// once each; a crash may take back those still waiting (and nothing that
// an Append returned before them).
func (l *Log) AppendDeferred(e Entry) (Entry, error) { return l.append(e, true) }

func (l *Log) append(e Entry, deferred bool) (Entry, error) {
	d, err := l.dataset(e.Dataset)
	if err != nil {
		return Entry{}, err
	}
	for _, s := range []*string{&e.Time, &e.Key, &e.Grantee, &e.Method, &e.Range, &e.Result, &e.Remote} {
		*s = clean(*s)
	}
	// The request as signed is kept whole (cut, its signature would not
	// check), as valid UTF-8 all the same; the line's bound holds it.
	for _, s := range []*string{&e.Target, &e.SigInput, &e.Sig} {
		*s = strings.ToValidUTF8(*s, "\uFFFD")
	}
	if e.Time == "" {
		e.Time = l.opts.Now().UTC().Format(time.RFC3339Nano)
	}
	end, err := l.write(d, &e)
	if err != nil {
		return Entry{}, err
	}
	if deferred {
		d.mu.Lock()
		if d.seq-d.durSeq < deferredMostLines {
			if d.timer == nil && d.durSize < end {
				d.timer = time.AfterFunc(DeferredSyncEvery, func() { l.flushDeferred(d) })
			}
			d.mu.Unlock()
			return e, nil
		}
		d.mu.Unlock()
		// Back-pressure: this entry's own fsync makes every line before
		// it durable, so a flood of refusals never leaves more lines
		// waiting than a load after a crash takes back (maxTornLines).
	}
	if err := d.commit(end); err != nil {
		return Entry{}, fmt.Errorf("accesslog: entry %d of %s: %w", e.Seq, d.path, err)
	}
	return e, nil
}

// write fills e's place in the chain and writes its line; it returns the
// file's end after the line.
func (l *Log) write(d *datasetLog, e *Entry) (int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := l.load(d, e.Dataset); err != nil {
		return 0, err
	}
	if d.broken != nil {
		return 0, fmt.Errorf("accesslog: not extending a log whose chain does not hold: %w", d.broken)
	}
	if d.held != nil {
		return 0, fmt.Errorf("accesslog: %s: %w: %w", d.path, ErrHeld, d.held)
	}
	if d.f == nil {
		f, err := os.OpenFile(d.path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o640)
		if err != nil {
			return 0, fmt.Errorf("accesslog: create %s: %w", d.path, err)
		}
		if err := fsx.SyncDir(l.root); err != nil {
			f.Close()
			return 0, err
		}
		d.f = f
	}
	e.Seq, e.Prev = d.seq+1, d.head
	e.Hash = e.ComputeHash()
	line, err := json.Marshal(e)
	if err != nil {
		return 0, fmt.Errorf("accesslog: encode entry %d of %s: %w", e.Seq, d.path, err)
	}
	line = append(line, '\n')
	if len(line) > MaxLineBytes {
		// Never written: a line longer than a reader takes would leave
		// the log unreadable, and every later entry with it.
		return 0, fmt.Errorf("accesslog: entry %d of %s is %d bytes, more than the %d a line may be", e.Seq, d.path, len(line), MaxLineBytes)
	}
	if _, err := d.f.Write(line); err != nil {
		// Cut what part of the line got in; what is on disk is uncertain
		// after a failed write, so stop until the log is read again.
		if terr := d.f.Truncate(d.size); terr != nil {
			err = errors.Join(err, fmt.Errorf("cut the unacknowledged line: %w", terr))
		}
		d.broken = fmt.Errorf("accesslog: write entry %d to %s: %w", e.Seq, d.path, err)
		return 0, d.broken
	}
	if (e.Seq-1)%indexEvery == 0 {
		d.index = append(d.index, d.size)
	}
	d.seq, d.head, d.size = e.Seq, e.Hash, d.size+int64(len(line))
	if e.Grantee != "" {
		d.granted = e.Seq
	}
	return d.size, nil
}

// commit returns once the file is durable up to end: either an fsync that
// began after that line was written already covered it, or it runs one,
// covering every line written so far.
func (d *datasetLog) commit(end int64) error {
	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	d.mu.Lock()
	if d.durSize >= end {
		d.mu.Unlock()
		return nil
	}
	if d.broken != nil || d.f == nil {
		err := d.broken
		d.mu.Unlock()
		if err == nil {
			err = errors.New("log closed before the entry was made durable")
		}
		return err
	}
	f, seq, head, size, granted := d.f, d.seq, d.head, d.size, d.granted
	d.mu.Unlock()
	// Outside mu, so that other appends write their lines meanwhile and
	// the next fsync takes them all.
	d.syncs.Add(1)
	err := f.Sync()
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		// After a failed fsync the kernel may have dropped the dirty pages:
		// nothing written since the last good fsync can be vouched for.
		d.broken = fmt.Errorf("fsync %s: %w", d.path, err)
		return d.broken
	}
	d.durSeq, d.durHead, d.durSize, d.durGrant = seq, head, size, granted
	d.writeMark(size)
	return nil
}

// flushDeferred is the timer of AppendDeferred: it fsyncs the lines that
// wait. A failure is noted; the log refuses the next Append with it.
func (l *Log) flushDeferred(d *datasetLog) {
	d.mu.Lock()
	d.timer = nil
	end, waiting := d.size, d.durSize < d.size && d.broken == nil && d.f != nil
	d.mu.Unlock()
	if !waiting {
		return
	}
	if err := d.commit(end); err != nil {
		l.note(fmt.Sprintf("accesslog: %s: fsync of deferred entries: %v", d.path, err))
	}
}

// settle makes durable the lines written so far, when some wait
// (AppendDeferred), so that what the log shows next includes them.
func (l *Log) settle(d *datasetLog, dataset string) error {
	d.mu.Lock()
	err := l.load(d, dataset)
	end, waiting := d.size, d.durSize < d.size && d.broken == nil
	d.mu.Unlock()
	if err != nil || !waiting {
		return err
	}
	if err := d.commit(end); err != nil {
		return fmt.Errorf("accesslog: %s: %w", d.path, err)
	}
	return nil
}

// Head returns how many entries the dataset's log has and the hash of the
// last (ZeroHash for none): what the node anchors.
func (l *Log) Head(dataset string) (entries uint64, head string, err error) {
	st, err := l.Status(dataset)
	return st.Entries, st.Head, err
}

// Status is where a dataset's log stands, durable entries only.
type Status struct {
	Entries uint64 // entries in the log
	Head    string // the hash of the last, ZeroHash for none
	// LastGrantee is the last entry that names a grantee (a request that
	// relied on a grant, or was refused one it held), 0 for none: the
	// anchoring loop anchors such growth promptly, as a grantee may need
	// to prove its access, and other growth (anonymous requests, keys
	// with no grant) more rarely (share.Anchoring).
	LastGrantee uint64
}

// Status returns where the dataset's log stands, after making durable the
// entries AppendDeferred wrote.
func (l *Log) Status(dataset string) (Status, error) {
	d, err := l.dataset(dataset)
	if err != nil {
		return Status{}, err
	}
	if err := l.settle(d, dataset); err != nil {
		return Status{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := l.load(d, dataset); err != nil {
		return Status{}, err
	}
	return Status{Entries: d.durSeq, Head: d.durHead, LastGrantee: d.durGrant}, nil
}

// Entries returns up to limit entries of the dataset's log after the first
// `after` lines (after = the last Seq already read, in a sound log), read
// from the file as it is, so a file changed behind the log's back shows
// (and Verify finds it). limit <= 0 or above MaxPage means MaxPage. A
// dataset without a log has no entries.
func (l *Log) Entries(dataset string, after uint64, limit int) ([]Entry, error) {
	if limit <= 0 || limit > MaxPage {
		limit = MaxPage
	}
	d, err := l.dataset(dataset)
	if err != nil {
		return nil, err
	}
	if err := l.settle(d, dataset); err != nil {
		return nil, err
	}
	d.mu.Lock()
	err = l.load(d, dataset)
	size := d.durSize
	var skip uint64 // lines before start
	var start int64
	if k := after / indexEvery; k < uint64(len(d.index)) && k > 0 {
		skip, start = k*indexEvery, d.index[k]
	}
	d.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if start >= size {
		skip, start = 0, 0
	}
	f, err := os.Open(d.path)
	if errors.Is(err, fs.ErrNotExist) {
		return []Entry{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("accesslog: open %s: %w", d.path, err)
	}
	defer f.Close()
	out, err := page(f, d.path, size, skip, start, after, limit)
	if errors.Is(err, errMisaligned) {
		// The file changed behind the log's back since the index was
		// made: read it from the top, as it is, for Verify to judge.
		out, err = page(f, d.path, size, 0, 0, after, limit)
	}
	return out, err
}

var errMisaligned = errors.New("the index does not point at the line it should")

// page reads up to limit entries after line `after` from f, starting at
// byte start, line skip+1, and ending at byte size: only the lines durable
// when the read began, since an Append under way is not on the record
// until its fsync.
func page(f *os.File, path string, size int64, skip uint64, start int64, after uint64, limit int) ([]Entry, error) {
	out := []Entry{}
	stop := errors.New("page full")
	first := true
	_, _, err := scan(io.NewSectionReader(f, start, size-start), path, skip, func(n uint64, _ int64, e Entry) error {
		if first && skip > 0 && e.Seq != n {
			return errMisaligned
		}
		first = false
		if n <= after {
			return nil
		}
		out = append(out, e)
		if len(out) == limit {
			return stop
		}
		return nil
	})
	if skip > 0 && err != nil && !errors.Is(err, stop) {
		// A line cut by a stale offset does not parse either.
		return nil, errMisaligned
	}
	if err != nil && !errors.Is(err, stop) {
		return nil, err
	}
	return out, nil
}

// Datasets returns the datasets that have a log, sorted (for the anchoring
// loop). Files whose names are not a log's are ignored.
func (l *Log) Datasets() ([]string, error) {
	des, err := os.ReadDir(l.root)
	if err != nil {
		return nil, fmt.Errorf("accesslog: list %s: %w", l.root, err)
	}
	var out []string
	for _, de := range des {
		if !de.Type().IsRegular() {
			continue
		}
		if ds, ok := DatasetOf(de.Name()); ok {
			out = append(out, ds)
		}
	}
	slices.Sort(out)
	return out, nil
}

// clean keeps s to MaxFieldBytes of valid UTF-8, cut at a character.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= MaxFieldBytes {
		return s
	}
	cut := MaxFieldBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// clip bounds a name from input in an error message.
func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}
