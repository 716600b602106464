package client

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/httpsig"
	"github.com/cityid/cityid/internal/accesslog"
	"github.com/cityid/cityid/internal/wire"
)

// Data sharing (issue 12): a dataset's bytes are kept by its owner city's
// node, which serves them to requests signed (RFC 9421, Ed25519) by keys
// with a right to them and logs every access. These calls talk to that
// node: make the Client with its URL (the endpoint the city registered,
// DataURL).

// Data sharing's answers and the access log's entries.
type (
	UploadAnswer  = wire.UploadAnswer
	AccessEntry   = accesslog.Entry
	AccessLogPage = accesslog.Page
)

// Refusal codes of data requests (Problem.Code).
const (
	CodeNotADataset       = wire.CodeNotADataset
	CodeSignatureRequired = wire.CodeSignatureRequired
	CodeNoGrant           = wire.CodeNoGrant
	CodeGrantRevoked      = wire.CodeGrantRevoked
	CodeGrantExpired      = wire.CodeGrantExpired
	CodeGrantInactive     = wire.CodeGrantInactive
	CodeDataNotHere       = wire.CodeDataNotHere
	CodeDigestMismatch    = wire.CodeDigestMismatch
	CodeUploadOffset      = wire.CodeUploadOffset
)

// UploadChunk is how many bytes one PUT of an upload carries: an
// interrupted upload loses at most this much.
const UploadChunk = 64 << 20

// DataURL is the URL of a dataset's bytes at a node's URL.
func DataURL(node, id string) string {
	return strings.TrimRight(node, "/") + wire.DataPath + escapeID(id)
}

// dataRequest builds a request to this node, signed with key unless key
// is nil (an anonymous read of a public dataset).
func (c *Client) dataRequest(ctx context.Context, method, path string, body io.Reader, size int64, key ed25519.PrivateKey) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.ContentLength = size
	}
	if key != nil {
		s := httpsig.Signer{KeyID: KeyText(key.Public().(ed25519.PublicKey)), Key: key, Tag: wire.SignatureTag}
		if err := s.Sign(req); err != nil {
			return nil, fmt.Errorf("sign %s %s: %w", method, path, err)
		}
	}
	return req, nil
}

// dataDo sends a data request; a refusal comes back as an *Error.
func (c *Client) dataDo(req *http.Request) (*http.Response, error) {
	// Transfers take as long as their bytes do: no overall timeout, the
	// caller's context bounds them.
	resp, err := c.data.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	if resp.StatusCode/100 == 2 || resp.StatusCode == http.StatusPermanentRedirect {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return nil, problemOf(resp.StatusCode, b)
}

// problemOf is the *Error of a refusal's body.
func problemOf(status int, b []byte) *Error {
	e := &Error{Status: status}
	if json.Unmarshal(b, &e.Problem) != nil || e.Problem.Code == "" {
		e.Problem = Problem{Status: status, Code: "http_" + strconv.Itoa(status), Detail: strings.TrimSpace(string(b))}
	}
	return e
}

// UploadData sends the bytes of dataset id, read from r (size bytes,
// which must hash to the SHA-256 of its DATA value on the ledger), to this
// node, signed with key, an admin key of the dataset or of a node above
// it. It first asks how much the node already holds, so an interrupted
// upload resumes where it stopped, then sends the rest in chunks of
// UploadChunk. progress, when not nil, is told the bytes the node holds
// after each chunk.
func (c *Client) UploadData(ctx context.Context, key ed25519.PrivateKey, id string, r io.ReaderAt, size int64, progress func(held int64)) (UploadAnswer, error) {
	path := wire.DataPath + escapeID(id)
	status := func() (UploadAnswer, error) {
		if size == 0 {
			return UploadAnswer{Size: 0}, nil
		}
		req, err := c.dataRequest(ctx, http.MethodPut, path, http.NoBody, 0, key)
		if err != nil {
			return UploadAnswer{}, err
		}
		req.Header.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
		return c.uploadAnswer(req)
	}
	ans, err := status()
	for err == nil && !ans.Complete {
		off := ans.Received
		n := min(int64(UploadChunk), size-off)
		var req *http.Request
		req, err = c.dataRequest(ctx, http.MethodPut, path, io.NewSectionReader(r, off, n), n, key)
		if err != nil {
			return ans, err
		}
		if size > 0 {
			req.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, size))
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		ans, err = c.uploadAnswer(req)
		if Code(err) == CodeUploadOffset {
			// Another upload moved on, or an earlier chunk was taken
			// after all: ask again where to go on from.
			ans, err = status()
		}
		if err == nil && progress != nil {
			progress(ans.Received)
		}
		if err == nil && !ans.Complete && ans.Received <= off {
			return ans, fmt.Errorf("upload of %s: the node took none of the chunk at byte %d", id, off)
		}
	}
	return ans, err
}

func (c *Client) uploadAnswer(req *http.Request) (UploadAnswer, error) {
	resp, err := c.dataDo(req)
	if err != nil {
		return UploadAnswer{}, err
	}
	defer resp.Body.Close()
	var ans UploadAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ans); err != nil {
		return ans, fmt.Errorf("%s %s: decode answer: %w", req.Method, req.URL, err)
	}
	return ans, nil
}

// Download says what DownloadData fetched.
type Download struct {
	Path    string
	Bytes   int64  // bytes received by this call
	Resumed int64  // bytes kept from an earlier, interrupted download
	Receipt string // the owner node's access log entry for the last request ("seq=N, hash=H")
}

// DownloadData downloads dataset id's bytes into path. ds is the DATA
// value the caller verified on the ledger: the bytes are checked against
// its size and SHA-256, and path is written (renamed from path+".part")
// only when they match, whatever node served them. Bytes already in
// path+".part" from an interrupted download are kept and only the rest is
// asked for. key signs the request; nil asks anonymously, which only a
// public dataset answers. index picks the DATA value (0: the first).
func (c *Client) DownloadData(ctx context.Context, key ed25519.PrivateKey, id string, index uint32, ds Dataset, path string) (Download, error) {
	part := path + ".part"
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return Download{Path: path}, err
	}
	defer f.Close()
	out, err := c.DownloadDataTo(ctx, key, id, index, ds, fileSink{f})
	out.Path = path
	if errors.Is(err, ErrDataMismatch) {
		_ = f.Close()
		_ = os.Remove(part)
		return out, fmt.Errorf("%w: discarded, nothing written to %s", err, path)
	}
	if err != nil {
		_ = f.Sync()
		if out.Bytes > 0 || out.Resumed > 0 {
			err = fmt.Errorf("%w (kept in %s; run it again to resume)", err, part)
		}
		return out, err
	}
	if err := f.Sync(); err != nil {
		return out, err
	}
	if err := f.Close(); err != nil {
		return out, err
	}
	return out, os.Rename(part, path)
}

// DataSink is where DownloadDataTo puts a dataset's bytes: a file
// (DownloadData), or a node's own store (cityid data mirror), so that
// every byte is written once, where it is kept.
type DataSink interface {
	// Held returns the bytes the sink holds already, from an interrupted
	// download (nothing, for a new one): they are hashed, and only the
	// rest is asked for.
	Held() (io.Reader, error)
	// Restart drops every byte held: they are not a prefix of the
	// dataset, or the node sent the whole again.
	Restart() error
	// ReadFrom appends r's bytes to those held, returning how many it
	// took.
	ReadFrom(r io.Reader) (int64, error)
}

// ErrDataMismatch is DownloadDataTo's error when the bytes received do not
// have the size and SHA-256 of the DATA value: the sink's bytes are not
// the dataset's and are to be dropped.
var ErrDataMismatch = errors.New("do not match the ledger")

// DownloadDataTo downloads dataset id's bytes into sink, checked as they
// stream: never more than ds.Size are taken, and they are hashed on their
// way to the sink, with the bytes it held already. It returns
// ErrDataMismatch (wrapped) when the whole does not have ds's size and
// SHA-256; then the caller must not keep the sink's bytes. On another
// error (a cut connection) the sink keeps what it took, for a later call
// to resume.
func (c *Client) DownloadDataTo(ctx context.Context, key ed25519.PrivateKey, id string, index uint32, ds Dataset, sink DataSink) (Download, error) {
	var out Download
	want, err := hex.DecodeString(ds.SHA256)
	if err != nil || len(want) != sha256.Size {
		return out, fmt.Errorf("the DATA value of %s has no SHA-256 (%q)", id, ds.SHA256)
	}
	h := sha256.New()
	r, err := sink.Held()
	if err != nil {
		return out, err
	}
	held, err := io.Copy(h, r)
	if err != nil {
		return out, fmt.Errorf("read the bytes held of %s: %w", id, err)
	}
	restart := func() error {
		h.Reset()
		out.Resumed, held = 0, 0
		return sink.Restart()
	}
	if held > ds.Size {
		// Not a prefix of these bytes: start again.
		if err := restart(); err != nil {
			return out, err
		}
	}
	out.Resumed = held
	if held < ds.Size {
		p := wire.DataPath + escapeID(id)
		if index != 0 {
			p += "?index=" + strconv.FormatUint(uint64(index), 10)
		}
		req, err := c.dataRequest(ctx, http.MethodGet, p, nil, 0, key)
		if err != nil {
			return out, err
		}
		if held > 0 {
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-", held))
			req.Header.Set("If-Range", `"sha256:`+ds.SHA256+`"`)
		}
		resp, err := c.dataDo(req)
		if err != nil {
			return out, err
		}
		defer resp.Body.Close()
		out.Receipt = resp.Header.Get("CityID-Access-Log")
		if resp.StatusCode == http.StatusOK && held > 0 {
			// The node sent the whole: start again.
			if err := restart(); err != nil {
				return out, err
			}
		}
		// Never more than the ledger's size, whatever the node sends:
		// one byte more shows it sent more.
		n, err := sink.ReadFrom(io.TeeReader(io.LimitReader(resp.Body, ds.Size-held+1), h))
		out.Bytes = n
		held += n
		// A sink that refused a byte past the size has hashed it: the
		// check below fails. Any other error leaves the sink short.
		if err != nil && held < ds.Size {
			return out, fmt.Errorf("download of %s interrupted after %d bytes: %w", id, held, err)
		}
	}
	if held != ds.Size || hex.EncodeToString(h.Sum(nil)) != ds.SHA256 {
		return out, fmt.Errorf("the %d bytes received for %s %w (size %d, SHA-256 %s)",
			held, id, ErrDataMismatch, ds.Size, ds.SHA256)
	}
	return out, nil
}

// fileSink is a DataSink of a file open for reading and writing.
type fileSink struct{ f *os.File }

func (s fileSink) Held() (io.Reader, error) {
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	// Read to its end, where ReadFrom goes on.
	return s.f, nil
}

func (s fileSink) Restart() error {
	if err := s.f.Truncate(0); err != nil {
		return err
	}
	_, err := s.f.Seek(0, io.SeekStart)
	return err
}

func (s fileSink) ReadFrom(r io.Reader) (int64, error) { return io.Copy(s.f, r) }

// AccessLog returns a page of dataset id's access log, entries after
// after, read with key (an admin key of the dataset or of a node above
// it).
func (c *Client) AccessLog(ctx context.Context, key ed25519.PrivateKey, id string, after uint64, limit int) (AccessLogPage, error) {
	q := url.Values{}
	if after > 0 {
		q.Set("after", strconv.FormatUint(after, 10))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	p := "/v1/access-log/" + escapeID(id) + encode(q)
	req, err := c.dataRequest(ctx, http.MethodGet, p, nil, 0, key)
	if err != nil {
		return AccessLogPage{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.dataDo(req)
	if err != nil {
		return AccessLogPage{}, err
	}
	defer resp.Body.Close()
	var page AccessLogPage
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&page); err != nil {
		return page, fmt.Errorf("GET %s: decode answer: %w", p, err)
	}
	return page, nil
}

// maxLogEntries bounds what WholeAccessLog reads into memory.
const maxLogEntries = 10_000_000

// WholeAccessLog reads every entry of dataset id's access log, page by
// page.
func (c *Client) WholeAccessLog(ctx context.Context, key ed25519.PrivateKey, id string) ([]AccessEntry, error) {
	var all []AccessEntry
	var after uint64
	for {
		page, err := c.AccessLog(ctx, key, id, after, 1000)
		if err != nil {
			return all, err
		}
		all = append(all, page.Items...)
		if page.Next == "" || len(page.Items) == 0 {
			return all, nil
		}
		if len(all) >= maxLogEntries {
			// Cut here, the log would read as truncated below its anchors:
			// say so instead.
			return all, fmt.Errorf("the access log of %s has more than %d entries: read it in pages (AccessLog)", id, maxLogEntries)
		}
		// Pages are counted in lines, as the node reads them: a seq
		// altered on disk must not bend the paging before Verify sees it.
		after += uint64(len(page.Items))
	}
}

// VerifyAccessLog checks entries (the whole log of dataset id) against
// the dataset's anchors on the ledger: every entry is of id, the hash chain
// is whole and every anchored head is the entry it names.
func VerifyAccessLog(id string, entries []AccessEntry, anchors []Anchor) accesslog.Report {
	for _, e := range entries {
		if e.Dataset != id {
			return accesslog.Report{Entries: uint64(len(entries)), Problem: fmt.Sprintf("entry %d is of %s, not %s: not this dataset's log", e.Seq, e.Dataset, id), At: e.Seq, Code: "wrong_dataset"}
		}
	}
	heads := make([]accesslog.AnchorHead, 0, len(anchors))
	for _, a := range anchors {
		heads = append(heads, accesslog.AnchorHead{Entries: a.Entries, Head: a.Head})
	}
	return accesslog.Verify(entries, heads)
}

// CheckEntrySignature checks that an access log entry's request was
// signed by the entry's key (RFC 9421, as the node checked it when it let
// the request in): an owner cannot write an entry, for a request the key
// never made, that passes. The signature's created time is judged against
// the entry's time. An entry of no signed request (anonymous, or refused
// before a key was known) is nil.
func CheckEntrySignature(e AccessEntry) error {
	_, err := checkEntrySignature(e)
	return err
}

// CheckEntrySignatures checks every request a log let in with a key
// (status under 400) as CheckEntrySignature does, and that no two of them
// are one signed request (a key's nonce seen twice): a node cannot copy a
// request it was sent into entries of its own. It returns how many it
// checked and, when one fails, its sequence number and why.
func CheckEntrySignatures(entries []AccessEntry) (checked int, at uint64, err error) {
	seen := make(map[string]uint64)
	for _, e := range entries {
		if e.Status >= 400 || e.Key == "" {
			continue
		}
		checked++
		nonce, err := checkEntrySignature(e)
		if err != nil {
			return checked, e.Seq, err
		}
		k := e.Key + " " + nonce
		if first, dup := seen[k]; dup {
			return checked, e.Seq, fmt.Errorf("entry %d repeats the request of entry %d (key %s, nonce %q): %w", e.Seq, first, e.Key, nonce,
				&httpsig.Error{Code: httpsig.ErrReplayed, Msg: "one signed request logged twice"})
		}
		seen[k] = e.Seq
	}
	return checked, 0, nil
}

// entryPaths are the routes a dataset's access log records requests of.
var entryPaths = []string{wire.DataPath, wire.AccessLogPath}

func checkEntrySignature(e AccessEntry) (string, error) {
	if e.Key == "" {
		return "", nil
	}
	if e.Sig == "" {
		// The node keeps the signature of every request whose key it
		// names (a signature too large to keep is refused, not let in).
		return "", fmt.Errorf("entry %d names key %s but keeps no signature of the request: %w", e.Seq, e.Key,
			&httpsig.Error{Code: httpsig.ErrMissing, Msg: "no Signature field recorded"})
	}
	at, err := time.Parse(time.RFC3339Nano, e.Time)
	if err != nil {
		return "", fmt.Errorf("entry %d: time %q: %w", e.Seq, e.Time, err)
	}
	r, err := http.NewRequest(e.Method, e.Target, nil)
	if err != nil {
		return "", fmt.Errorf("entry %d: target %q: %w", e.Seq, e.Target, err)
	}
	if !namesDataset(r.URL.EscapedPath(), e.Dataset) {
		return "", fmt.Errorf("entry %d: its request, for %s, is not of dataset %s's routes: %w", e.Seq, r.URL.EscapedPath(), e.Dataset,
			&httpsig.Error{Code: httpsig.ErrBad, Msg: "a request of another dataset"})
	}
	r.Header.Set("Signature-Input", e.SigInput)
	r.Header.Set("Signature", e.Sig)
	v := httpsig.Verifier{
		Key: func(keyID string) (ed25519.PublicKey, error) {
			if keyID != e.Key {
				return nil, fmt.Errorf("the signature's key %s is not the entry's %s", keyID, e.Key)
			}
			return ParsePubKey(keyID)
		},
		Tag:    wire.SignatureTag,
		Scheme: r.URL.Scheme,
		Now:    func() time.Time { return at },
	}
	p, err := v.Verify(r, "")
	if err != nil {
		return "", fmt.Errorf("entry %d: the request it records was not signed by %s: %w", e.Seq, e.Key, err)
	}
	return p.Nonce, nil
}

// OwnerNode is the URL of the node that keeps a dataset's bytes: the
// endpoint the dataset's city registered, or, for a city that registered
// none, the node of the dataset's DATA value's URI.
func OwnerNode(city *Record, ds Dataset) (string, error) {
	if city != nil && city.City != nil && city.City.Endpoint != "" {
		return strings.TrimRight(city.City.Endpoint, "/"), nil
	}
	if i := strings.Index(ds.URI, wire.DataPath); i > 0 {
		return ds.URI[:i], nil
	}
	return "", errors.New("the city registered no endpoint and the DATA value's URI is not a CityID node's")
}

// CityOf is the code of the city an identifier belongs to.
func CityOf(id string) (string, error) {
	p, err := code.Parse(id)
	if err != nil {
		return "", err
	}
	return p.CityCode(), nil
}

// namesDataset reports whether an escaped request path is one of a
// dataset's routes (entryPaths) for the identifier dataset, in any
// spelling the node takes for it (code.Parse: case, escapes). A path with
// dot segments or a backslash is none: a reader that cleans the path
// would check another request than the one signed.
func namesDataset(escaped, dataset string) bool {
	for _, prefix := range entryPaths {
		rest, ok := strings.CutPrefix(escaped, prefix)
		if !ok {
			continue
		}
		id, err := url.PathUnescape(rest)
		if err != nil || strings.Contains(id, "\\") {
			return false
		}
		for _, seg := range strings.Split(id, "/") {
			if seg == "." || seg == ".." {
				return false
			}
		}
		p, err := code.Parse(id)
		return err == nil && p.String() == dataset
	}
	return false
}
