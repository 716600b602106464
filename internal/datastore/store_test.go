package datastore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// content is deterministic test bytes that are not all alike, so a
// misplaced chunk changes the hash.
func content(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func openStore(t testing.TB) (*Store, string) {
	t.Helper()
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	return s, root
}

// put uploads data whole and completes it.
func put(t testing.TB, s *Store, data []byte) string {
	t.Helper()
	name := sum(data)
	u, err := s.Upload(name, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if _, err := u.WriteAt(context.Background(), bytes.NewReader(data), 0); err != nil {
		t.Fatal(err)
	}
	if err := u.Complete(); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestUploadInChunksThenRead(t *testing.T) {
	s, _ := openStore(t)
	data := content(3<<20 + 17)
	name := sum(data)
	u, err := s.Upload(name, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += 1 << 20 {
		end := min(off+1<<20, len(data))
		n, err := u.WriteAt(context.Background(), bytes.NewReader(data[off:end]), int64(off))
		if err != nil || n != int64(end-off) {
			t.Fatalf("write at %d: n=%d err=%v", off, n, err)
		}
		if u.Offset() != int64(end) {
			t.Fatalf("offset %d, want %d", u.Offset(), end)
		}
	}
	if err := u.Complete(); err != nil {
		t.Fatal(err)
	}
	if err := u.Close(); err != nil {
		t.Fatalf("close after complete: %v", err)
	}
	if ok, err := s.Has(name); !ok || err != nil {
		t.Fatalf("Has = %v, %v", ok, err)
	}
	b, err := s.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Size() != int64(len(data)) || b.SHA256 != name {
		t.Fatalf("blob size %d name %s", b.Size(), b.SHA256)
	}
	got, err := io.ReadAll(b.VerifyingReader())
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %d bytes, err %v", len(got), err)
	}
	if err := b.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Upload(name, int64(len(data))); !errors.Is(err, ErrExists) {
		t.Fatalf("upload of a stored blob: %v, want ErrExists", err)
	}
	if _, err := os.Stat(s.statePath(name)); !os.IsNotExist(err) {
		t.Fatalf("state file left after complete: %v", err)
	}
}

func TestEmptyBlob(t *testing.T) {
	s, _ := openStore(t)
	name := put(t, s, nil)
	b, err := s.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	v := b.VerifyingReader()
	if got, err := io.ReadAll(v); err != nil || len(got) != 0 || !v.Verified() {
		t.Fatalf("empty blob: %d bytes, err %v, verified %v", len(got), err, v.Verified())
	}
}

// A crash is a Close without Complete plus, possibly, bytes written to the
// part file but never acknowledged and a temporary state file never renamed.
func TestResumeAfterCrash(t *testing.T) {
	s, root := openStore(t)
	data := content(5 << 20)
	name := sum(data)
	u, err := s.Upload(name, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	half := int64(2<<20 + 3)
	if _, err := u.WriteAt(context.Background(), bytes.NewReader(data[:half]), 0); err != nil {
		t.Fatal(err)
	}
	u.Close()
	// Unacknowledged garbage past the offset and a torn state rewrite.
	f, err := os.OpenFile(s.partPath(name), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(bytes.Repeat([]byte{0xEE}, 4096))
	f.Close()
	// Torn state rewrites as fsx names its temporary files, and as it
	// did before.
	dir, base := filepath.Split(s.statePath(name))
	leftovers := []string{s.statePath(name) + ".tmp", filepath.Join(dir, "."+base+".123456.tmp")}
	for _, l := range leftovers {
		if err := os.WriteFile(l, []byte("99"), 0o640); err != nil {
			t.Fatal(err)
		}
	}

	s2, err := Open(root) // the node restarting
	if err != nil {
		t.Fatal(err)
	}
	u2, err := s2.Upload(name, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer u2.Close()
	if u2.Offset() != half {
		t.Fatalf("resumed at %d, want %d", u2.Offset(), half)
	}
	if _, err := u2.WriteAt(context.Background(), bytes.NewReader(data[half:]), half); err != nil {
		t.Fatal(err)
	}
	if err := u2.Complete(); err != nil {
		t.Fatalf("complete after resume: %v", err)
	}
	for _, l := range leftovers {
		if _, err := os.Stat(l); !os.IsNotExist(err) {
			t.Fatalf("leftover temporary state %s not removed: %v", filepath.Base(l), err)
		}
	}
}

// A reader that fails half way (a dropped connection) keeps what arrived.
func TestInterruptedWriteKeepsWhatArrived(t *testing.T) {
	s, _ := openStore(t)
	data := content(1 << 20)
	name := sum(data)
	u, err := s.Upload(name, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	dropped := errors.New("connection reset")
	r := io.MultiReader(bytes.NewReader(data[:1000]), errReader{dropped})
	n, err := u.WriteAt(context.Background(), r, 0)
	if !errors.Is(err, dropped) || n != 1000 || u.Offset() != 1000 {
		t.Fatalf("n=%d offset=%d err=%v", n, u.Offset(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := u.WriteAt(ctx, bytes.NewReader(data[1000:]), 1000); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled write: %v", err)
	}
	if _, err := u.WriteAt(context.Background(), bytes.NewReader(data[1000:]), 1000); err != nil {
		t.Fatal(err)
	}
	if err := u.Complete(); err != nil {
		t.Fatal(err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestWrongOffset(t *testing.T) {
	s, _ := openStore(t)
	data := content(100)
	u, err := s.Upload(sum(data), 100)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if _, err := u.WriteAt(context.Background(), bytes.NewReader(data[:40]), 0); err != nil {
		t.Fatal(err)
	}
	for _, at := range []int64{0, 39, 41, 100, -1} {
		n, err := u.WriteAt(context.Background(), bytes.NewReader(data[40:]), at)
		var oe *OffsetError
		if n != 0 || !errors.As(err, &oe) || !errors.Is(err, ErrWrongOffset) || oe.Current != 40 || oe.Asked != at {
			t.Fatalf("write at %d: n=%d err=%v", at, n, err)
		}
		if !strings.Contains(err.Error(), "current offset is 40") {
			t.Fatalf("error does not say the offset: %v", err)
		}
	}
	if u.Offset() != 40 {
		t.Fatalf("offset moved to %d", u.Offset())
	}
}

func TestDigestMismatch(t *testing.T) {
	s, _ := openStore(t)
	data := content(10000)
	name := sum(data)
	bad := bytes.Clone(data)
	bad[5000] ^= 1
	u, err := s.Upload(name, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.WriteAt(context.Background(), bytes.NewReader(bad), 0); err != nil {
		t.Fatal(err)
	}
	if err := u.Complete(); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("complete: %v, want ErrDigestMismatch", err)
	}
	for _, p := range []string{s.partPath(name), s.statePath(name), s.blobPath(name)} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s still there after a mismatch: %v", p, err)
		}
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	// The hash is free again and starts from zero.
	u2, err := s.Upload(name, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer u2.Close()
	if u2.Offset() != 0 {
		t.Fatalf("offset after mismatch %d", u2.Offset())
	}
}

func TestSizeOverflowAndIncomplete(t *testing.T) {
	s, _ := openStore(t)
	data := content(3000)
	name := sum(data)
	u, err := s.Upload(name, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if _, err := u.WriteAt(context.Background(), bytes.NewReader(data[:1000]), 0); err != nil {
		t.Fatal(err)
	}
	if err := u.Complete(); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("complete early: %v", err)
	}
	more := append(bytes.Clone(data[1000:]), 1, 2, 3)
	n, err := u.WriteAt(context.Background(), bytes.NewReader(more), 1000)
	if !errors.Is(err, ErrSizeOverflow) || n != 2000 || u.Offset() != 3000 {
		t.Fatalf("overflow: n=%d offset=%d err=%v", n, u.Offset(), err)
	}
	if fi, err := os.Stat(s.partPath(name)); err != nil || fi.Size() != 3000 {
		t.Fatalf("part file past the size: %v %v", fi.Size(), err)
	}
	if err := u.Complete(); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidNames(t *testing.T) {
	s, _ := openStore(t)
	good := sum(nil)
	for _, name := range []string{
		"", "..", "../../etc/passwd", strings.ToUpper(good), good[:63], good + "0",
		good[:60] + "/../", good[:63] + "g", "blobs/sha256/" + good,
	} {
		if _, err := s.Has(name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Has(%q): %v", name, err)
		}
		if _, err := s.Upload(name, 1); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Upload(%q): %v", name, err)
		}
		if _, err := s.Open(name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Open(%q): %v", name, err)
		}
		if err := s.Quarantine(name, "x"); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Quarantine(%q): %v", name, err)
		}
		if err := s.Remove(name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Remove(%q): %v", name, err)
		}
	}
	if _, err := s.Upload(good, -1); err == nil {
		t.Error("negative size accepted")
	}
	if _, err := s.Open(good); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open of a missing blob: %v", err)
	}
	if err := s.Remove(good); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove of a missing blob: %v", err)
	}
}

// tamper changes one byte of the stored blob on disk, as an intruder or a
// failing disk would, keeping its size.
func tamper(t *testing.T, s *Store, name string, at int64) {
	t.Helper()
	f, err := os.OpenFile(s.blobPath(name), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x80
	if _, err := f.WriteAt(b[:], at); err != nil {
		t.Fatal(err)
	}
}

func TestTamperedBlobIsCutShortAndQuarantined(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, s *Store, name string)
	}{
		{"byte flipped", func(t *testing.T, s *Store, name string) { tamper(t, s, name, 2<<20+5) }},
		{"truncated", func(t *testing.T, s *Store, name string) {
			if err := os.Truncate(s.blobPath(name), 1<<20); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, root := openStore(t)
			data := content(3<<20 + 100)
			name := put(t, s, data)
			b, err := s.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			tc.damage(t, s, name)
			var out bytes.Buffer
			v := b.VerifyingReader()
			_, err = io.Copy(&out, v)
			if !errors.Is(err, ErrDigestMismatch) || !errors.Is(v.Err(), ErrDigestMismatch) || v.Verified() {
				t.Fatalf("copy: %v (verified %v)", err, v.Verified())
			}
			if out.Len() >= len(data) {
				t.Fatalf("delivered %d of %d bytes: a complete response", out.Len(), len(data))
			}
			if ok, _ := s.Has(name); ok {
				t.Fatal("tampered blob still served")
			}
			if _, err := s.Open(name); !errors.Is(err, ErrNotFound) {
				t.Fatalf("open after quarantine: %v", err)
			}
			reason, err := os.ReadFile(filepath.Join(root, "quarantine", name+".reason"))
			if err != nil || !strings.Contains(string(reason), "bytes hash to") && !strings.Contains(string(reason), "cut short") {
				t.Fatalf("reason: %q %v", reason, err)
			}
			if _, err := os.Stat(filepath.Join(root, "quarantine", name)); err != nil {
				t.Fatal(err)
			}
			// Re-uploading the right bytes brings it back.
			put(t, s, data)
		})
	}
}

// The server side as the API uses it: http.ServeContent over a
// VerifyingReader. A tampered blob never reaches the client complete.
func TestServeContentOfTamperedBlob(t *testing.T) {
	s, _ := openStore(t)
	data := content(4<<20 + 1)
	name := put(t, s, data)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := s.Open(name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		defer b.Close()
		http.ServeContent(w, r, "", b.ModTime(), b.VerifyingReader())
	}))
	defer srv.Close()
	get := func(rng string) (*http.Response, []byte, error) {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp, body, err
	}
	resp, body, err := get("")
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("intact: %v %d bytes", err, len(body))
	}
	resp, body, err = get("bytes=10-19")
	if err != nil || resp.StatusCode != 206 || !bytes.Equal(body, data[10:20]) {
		t.Fatalf("range: %v %q", err, body)
	}
	tamper(t, s, name, 100)
	_, body, err = get("")
	if err == nil || len(body) >= len(data) {
		t.Fatalf("tampered blob delivered whole: %d bytes, err %v", len(body), err)
	}
	resp, _, err = get("")
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("after quarantine: %v %v", resp, err)
	}
}

func TestConcurrentUploadsOfOneHash(t *testing.T) {
	s, _ := openStore(t)
	data := content(1 << 20)
	name := sum(data)
	const n = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []*Upload
		busy    int
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := s.Upload(name, int64(len(data)))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners = append(winners, u)
			case errors.Is(err, ErrUploadInProgress):
				busy++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(winners) != 1 || busy != n-1 {
		t.Fatalf("%d uploads open at once, %d refused", len(winners), busy)
	}
	u := winners[0]
	if _, err := u.WriteAt(context.Background(), bytes.NewReader(data[:500]), 0); err != nil {
		t.Fatal(err)
	}
	u.Close()
	// Released on Close: the next one resumes what the first left.
	u2, err := s.Upload(name, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if u2.Offset() != 500 {
		t.Fatalf("offset %d", u2.Offset())
	}
	if _, err := u2.WriteAt(context.Background(), bytes.NewReader(data[500:]), 500); err != nil {
		t.Fatal(err)
	}
	if err := u2.Complete(); err != nil {
		t.Fatal(err)
	}
	// Different hashes upload side by side.
	var wg2 sync.WaitGroup
	for i := range 4 {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			d := content(100000 + i)
			u, err := s.Upload(sum(d), int64(len(d)))
			if err != nil {
				t.Error(err)
				return
			}
			defer u.Close()
			if _, err := u.WriteAt(context.Background(), bytes.NewReader(d), 0); err != nil {
				t.Error(err)
				return
			}
			if err := u.Complete(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg2.Wait()
}

func TestClosedUpload(t *testing.T) {
	s, _ := openStore(t)
	u, err := s.Upload(sum([]byte("x")), 1)
	if err != nil {
		t.Fatal(err)
	}
	u.Close()
	if _, err := u.WriteAt(context.Background(), strings.NewReader("x"), 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if err := u.Complete(); !errors.Is(err, ErrClosed) {
		t.Fatalf("complete after close: %v", err)
	}
}

func TestAnotherSizeStartsAgain(t *testing.T) {
	s, _ := openStore(t)
	data := content(2000)
	name := sum(data)
	u, _ := s.Upload(name, 5000) // a wrong size from an earlier ledger value
	u.WriteAt(context.Background(), bytes.NewReader(data[:1500]), 0)
	u.Close()
	u2, err := s.Upload(name, 2000)
	if err != nil {
		t.Fatal(err)
	}
	defer u2.Close()
	if u2.Offset() != 0 || u2.Size() != 2000 {
		t.Fatalf("offset %d size %d", u2.Offset(), u2.Size())
	}
}

// A crash after the blob moved into blobs/ but before its state was removed.
func TestOpenDropsStateOfACompleteBlob(t *testing.T) {
	s, root := openStore(t)
	data := content(1000)
	name := put(t, s, data)
	if err := os.WriteFile(s.statePath(name), []byte("1000 1000\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.statePath(name)); !os.IsNotExist(err) {
		t.Fatalf("stale state kept: %v", err)
	}
	if ok, _ := s.Has(name); !ok {
		t.Fatal("blob lost")
	}
}

// A reader of a bad copy that was since replaced by a good upload does not
// quarantine the good one.
func TestMismatchDoesNotQuarantineAReplacement(t *testing.T) {
	s, _ := openStore(t)
	data := content(3 << 20)
	name := put(t, s, data)
	old, err := s.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	tamper(t, s, name, 10)
	if err := s.Remove(name); err != nil {
		t.Fatal(err)
	}
	put(t, s, data)
	if _, err := io.Copy(io.Discard, old.VerifyingReader()); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("read of the tampered copy: %v", err)
	}
	if ok, _ := s.Has(name); !ok {
		t.Fatal("the good replacement was quarantined")
	}
}

func TestStatus(t *testing.T) {
	s, _ := openStore(t)
	data := content(5000)
	name := sum(data)
	check := func(want Progress) {
		t.Helper()
		if got, err := s.Status(name); err != nil || got != want {
			t.Fatalf("status %+v %v, want %+v", got, err, want)
		}
	}
	check(Progress{})
	u, err := s.Upload(name, 5000)
	if err != nil {
		t.Fatal(err)
	}
	check(Progress{Size: 5000})
	u.WriteAt(context.Background(), bytes.NewReader(data[:1234]), 0)
	check(Progress{Offset: 1234, Size: 5000})
	u.Close()
	check(Progress{Offset: 1234, Size: 5000})
	u, _ = s.Upload(name, 5000)
	u.WriteAt(context.Background(), bytes.NewReader(data[1234:]), 1234)
	if err := u.Complete(); err != nil {
		t.Fatal(err)
	}
	check(Progress{Complete: true, Offset: 5000, Size: 5000})
	if _, err := s.Status("x"); !errors.Is(err, ErrInvalidName) {
		t.Fatal(err)
	}
}
