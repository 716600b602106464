package api

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cityid/cityid/code"
	"github.com/cityid/cityid/internal/accesslog"
	"github.com/cityid/cityid/internal/datastore"
	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/share"
	"github.com/cityid/cityid/internal/wire"
)

// Data sharing (issue 12): GET /v1/data/{id} serves a dataset's bytes,
// PUT /v1/data/{id} takes them from the dataset's admins (resumable, in
// the manner of a resumable upload: Content-Range chunks, 308 with Range
// until the last), and GET /v1/access-log/{id} lists the dataset's access
// log to its admins. internal/share decides who may; this file speaks
// HTTP.

// acceptSignature is what a 401 asks for (RFC 9421 section 5.1): the
// components and parameters CityID's data requests are signed with.
var acceptSignature = `sig1=("@method" "@target-uri" "@authority");created;nonce;keyid;alg="ed25519";tag="` + share.Tag + `"`

// busyRetrySeconds is the Retry-After of a data request refused because
// the node's nonce memory is full of other keys.
const busyRetrySeconds = 60

// dataID parses the identifier of a data route, answering 400 when it
// does not parse and 404 when this node serves no data.
func (s *Server) dataID(w http.ResponseWriter, r *http.Request) (code.ID, bool) {
	if s.opts.Data == nil {
		writeProblem(w, wire.Problem{Code: wire.CodeNotFound, Detail: "this node serves no datasets ([data] is off in its configuration)"})
		return code.ID{}, false
	}
	text := r.PathValue("id")
	id, err := code.Parse(text)
	if err != nil {
		writeProblem(w, idProblem(text, err))
		return code.ID{}, false
	}
	return id, true
}

// dataRequest parses a data route's identifier and decides the request;
// ok is false when it answered (a bad identifier, a refusal).
func (s *Server) dataRequest(w http.ResponseWriter, r *http.Request, action share.Action) (code.ID, share.Access, bool) {
	id, ok := s.dataID(w, r)
	if !ok {
		return id, share.Access{}, false
	}
	a, ok := s.decide(w, r, id, action)
	return id, a, ok
}

// decide runs share.Decide and answers a refusal, logging it when the
// identifier is a dataset. ok is false when it answered.
func (s *Server) decide(w http.ResponseWriter, r *http.Request, id code.ID, action share.Action) (share.Access, bool) {
	var index uint32
	if v := r.URL.Query().Get("index"); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			writeProblem(w, wire.Problem{Code: wire.CodeBadRequest, Detail: "index " + quote(v) + " is not a value index (1, 2, …)"})
			return share.Access{}, false
		}
		index = uint32(n)
	}
	a, refusal, err := s.opts.Data.Decide(r.Context(), r, id, action, index)
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return a, false
	}
	if refusal == nil {
		return a, true
	}
	if refusal.Log {
		status := wire.HTTPStatus(refusal.Code)
		if _, err := s.logRefusal(r, id, accesslog.Entry{Key: refusal.Key, Grantee: refusal.Grantee, Height: refusal.Height,
			Status: status, Result: refusalResult(refusal)}); err != nil {
			writeProblem(w, internalProblem(s.log, r, err))
			return a, false
		}
	}
	if refusal.Code == wire.CodeSignatureRequired || refusal.Code == registry.CodeBadSignature {
		w.Header().Set("Accept-Signature", acceptSignature)
	}
	if refusal.Code == wire.CodeRateLimited {
		// The node remembers the nonces of as many keys as it may
		// (share's nonce bounds): a key's room frees as its nonces leave
		// the 5-minute window, so a minute is a fair wait.
		w.Header().Set("Retry-After", strconv.Itoa(busyRetrySeconds))
		w.Header().Add("Access-Control-Expose-Headers", "Retry-After")
	}
	writeProblem(w, wire.Problem{Code: refusal.Code, Reason: refusal.Reason, Detail: refusal.Msg, Height: refusal.Height})
	return a, false
}

// refusalResult is a refusal's result in the log: its code, and the
// signature's reason when there is one.
func refusalResult(f *share.Refusal) string {
	if f.Reason != "" {
		return f.Code + ":" + f.Reason
	}
	return f.Code
}

// logAccess appends r's entry to id's access log, fsynced before the
// request is answered: an answer's receipt names an entry that survives a
// crash.
func (s *Server) logAccess(r *http.Request, id code.ID, e accesslog.Entry) (accesslog.Entry, error) {
	out, err := s.opts.Data.Log().Append(s.accessEntry(r, id, e))
	if err != nil {
		return out, fmt.Errorf("append to the access log of %s: %w", id, err)
	}
	return out, nil
}

// logRefusal appends the entry of a request that is refused, or served
// nothing, without waiting for its fsync (accesslog.AppendDeferred): such
// an answer carries no receipt, and anyone, with no key, can send such
// requests, so each must not cost the node an fsync. The next entry
// fsynced (a request let in), a read of the log, or the log's own second
// covers it.
func (s *Server) logRefusal(r *http.Request, id code.ID, e accesslog.Entry) (accesslog.Entry, error) {
	out, err := s.opts.Data.Log().AppendDeferred(s.accessEntry(r, id, e))
	if err != nil {
		return out, fmt.Errorf("append to the access log of %s: %w", id, err)
	}
	return out, nil
}

// accessEntry fills r's side of an access log entry.
func (s *Server) accessEntry(r *http.Request, id code.ID, e accesslog.Entry) accesslog.Entry {
	e.Time = s.opts.Data.Now().UTC().Format(time.RFC3339Nano)
	e.Dataset = id.String()
	e.Method = r.Method
	e.Range = r.Header.Get("Range")
	if e.Range == "" && r.Method == http.MethodPut {
		e.Range = r.Header.Get("Content-Range")
	}
	e.Remote = r.RemoteAddr
	if sig, in := r.Header.Get("Signature"), r.Header.Get("Signature-Input"); e.Key != "" && sig != "" {
		// The request as signed, when its signature verified: anyone can
		// check later that the key made it (client.CheckEntrySignature).
		// A signature that did not verify is not kept: a stranger's
		// junk would only fill the log. (share.Decide lets in no request
		// whose fields exceed share.MaxSignatureFields.)
		e.Target, e.SigInput, e.Sig = s.opts.Data.TargetURI(r), in, sig
	}
	return e
}

// receipt names an access log entry in an answer: the client may keep it
// to show later that its access was logged (and anchored).
func receipt(w http.ResponseWriter, e accesslog.Entry) {
	w.Header().Set("CityID-Access-Log", fmt.Sprintf("seq=%d, hash=%s", e.Seq, e.Hash))
}

// getData serves GET (and HEAD) /v1/data/{id}: the dataset's bytes, to
// whom share.Decide lets in, from a node that keeps them (its city's, or a
// mirror of a public one), with one range at most, a strong ETag from the
// SHA-256, Repr-Digest always and Content-Digest on a whole answer (RFC
// 9530). What is sent is decided first (plan), logged, then sent as
// planned: the log says what the answer carried.
func (s *Server) getData(w http.ResponseWriter, r *http.Request) {
	id, a, ok := s.dataRequest(w, r, share.Download)
	if !ok {
		return
	}
	ds := a.Dataset
	entry := func(status int, bytes int64, result string) (accesslog.Entry, error) {
		return s.logAccess(r, id, accesslog.Entry{Key: a.Key, Grantee: a.Grantee, Grant: a.Grant, Height: a.Height,
			Bytes: bytes, Status: status, Result: result})
	}
	var blob *datastore.Blob
	var err error
	if a.Keeps() {
		blob, err = s.opts.Data.Store().Open(ds.SHA256)
	}
	if !a.Keeps() || errors.Is(err, datastore.ErrNotFound) {
		detail := "this node does not hold the bytes of " + id.String()
		if ep := s.ownerEndpoint(id); ep != "" {
			detail += "; its city's node is " + ep
		}
		if a.Serves || a.Bound {
			// Nothing is served: logged as a refusal is.
			if _, err := s.logRefusal(r, id, accesslog.Entry{Key: a.Key, Grantee: a.Grantee, Grant: a.Grant, Height: a.Height,
				Status: wire.HTTPStatus(wire.CodeDataNotHere), Result: wire.CodeDataNotHere}); err != nil {
				writeProblem(w, internalProblem(s.log, r, err))
				return
			}
		}
		writeProblem(w, wire.Problem{Code: wire.CodeDataNotHere, Detail: detail, Height: a.Height})
		return
	}
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	defer blob.Close()
	if blob.Size() != ds.Size {
		// The ref names these bytes for this dataset, so they are its own
		// and altered: out of service until uploaded again.
		_ = s.opts.Data.Store().Quarantine(ds.SHA256, fmt.Sprintf("size %d, the ledger says %d", blob.Size(), ds.Size))
		_, _ = entry(http.StatusInternalServerError, 0, wire.CodeDigestMismatch)
		writeProblem(w, internalProblem(s.log, r, fmt.Errorf("blob %s of %s is %d bytes, the ledger says %d: quarantined", ds.SHA256, id, blob.Size(), ds.Size)))
		return
	}
	etag := `"sha256:` + ds.SHA256 + `"`
	sum, _ := hex.DecodeString(ds.SHA256)
	digest := "sha-256=:" + base64.StdEncoding.EncodeToString(sum) + ":"
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Repr-Digest", digest)
	h.Set("Accept-Ranges", "bytes")
	h.Set("Cache-Control", "private, no-cache")
	if ds.Public {
		h.Set("Cache-Control", "public, no-cache")
	}
	p := plan(r, etag, ds.Size)
	result := resultOf(p.status)
	e, err := entry(p.status, p.n, result)
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	receipt(w, e)
	switch p.status {
	case http.StatusNotModified, http.StatusPreconditionFailed:
		w.WriteHeader(p.status)
		return
	case http.StatusRequestedRangeNotSatisfiable:
		h.Set("Content-Range", fmt.Sprintf("bytes */%d", ds.Size))
		w.WriteHeader(p.status)
		return
	case http.StatusPartialContent:
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", p.start, p.start+p.n-1, ds.Size))
	case http.StatusOK:
		h.Set("Content-Digest", digest)
	}
	if ds.MediaType != "" {
		h.Set("Content-Type", ds.MediaType)
	} else {
		h.Set("Content-Type", "application/octet-stream")
	}
	if r.Method == http.MethodHead {
		// A HEAD says what a GET would carry, and carries nothing.
		h.Set("Content-Length", strconv.FormatInt(ds.Size, 10))
		w.WriteHeader(p.status)
		return
	}
	h.Set("Content-Length", strconv.FormatInt(p.n, 10))
	w.WriteHeader(p.status)
	// A whole answer from a file not verified since it last changed is
	// hashed as it goes out: bytes altered on disk end it short (the
	// connection is cut, short of Content-Length), so they are never
	// delivered as a complete, valid answer, and the blob is quarantined.
	// A verified, unchanged file, or a range (which its reader checks
	// against the ledger as a whole), is copied from the file, with
	// sendfile where the connection allows it.
	var vr *datastore.VerifyingReader
	var err2 error
	if p.status == http.StatusOK && !blob.Trusted() {
		vr = blob.VerifyingReader()
		_, err2 = sendHashed(w, vr, p.n)
	} else {
		_, err2 = sendFile(w, blob.File, p.start, p.n)
	}
	if err2 != nil {
		s.log.Debug("dataset answer cut", "id", id.String(), "err", err2)
	}
	if vr != nil && errors.Is(vr.Err(), datastore.ErrDigestMismatch) {
		s.log.Error("dataset bytes altered on disk: the answer was cut short and the bytes quarantined", "id", id.String(), "sha256", ds.SHA256)
		if _, err := entry(http.StatusInternalServerError, 0, wire.CodeDigestMismatch); err != nil {
			s.log.Error("access log", "err", err)
		}
	}
}

// transferIdle is how long a data transfer may make no progress. The
// server's read and write timeouts bound whole requests, which a dataset
// of several GiB outlasts: a transfer instead moves its deadline on with
// every chunk, so a slow but steady one finishes and a stalled one is cut.
const transferIdle = 30 * time.Second

// transferChunk is how much of a file is handed to the connection at
// once: each chunk is one sendfile and moves the write deadline on.
const transferChunk = 8 << 20

// hashedChunk is the piece a file hashed as it is sent is read and
// written in.
const hashedChunk = 256 << 10

// sendFile sends n bytes of f from start, in transferChunk pieces, moving
// the write deadline on before each. Each piece is one *io.LimitedReader
// over the *os.File handed to the connection's own ReadFrom, which sends
// it with sendfile (found through any wrapper that can Unwrap).
func sendFile(w http.ResponseWriter, f *os.File, start, n int64) (int64, error) {
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return 0, err
	}
	rc := http.NewResponseController(w)
	rf := readerFrom(w)
	var done int64
	for done < n {
		_ = rc.SetWriteDeadline(time.Now().Add(transferIdle))
		lr := &io.LimitedReader{R: f, N: min(transferChunk, n-done)}
		var k int64
		var err error
		if rf != nil {
			k, err = rf.ReadFrom(lr)
		} else {
			k, err = io.Copy(w, lr)
		}
		done += k
		if err != nil {
			return done, err
		}
		if k == 0 {
			return done, io.ErrUnexpectedEOF
		}
	}
	return done, nil
}

// sendHashed sends n bytes read from src (a blob's VerifyingReader) in
// hashedChunk pieces, larger than io.Copy's, for fewer system calls,
// moving the write deadline on as it goes.
func sendHashed(w http.ResponseWriter, src io.Reader, n int64) (int64, error) {
	rc := http.NewResponseController(w)
	buf := make([]byte, min(n, hashedChunk)+1)
	var done int64
	for done < n {
		_ = rc.SetWriteDeadline(time.Now().Add(transferIdle))
		k, err := io.CopyBuffer(struct{ io.Writer }{w}, io.LimitReader(src, min(transferChunk, n-done)), buf)
		done += k
		if err != nil {
			return done, err
		}
		if k == 0 {
			return done, io.ErrUnexpectedEOF
		}
	}
	return done, nil
}

// readerFrom finds the io.ReaderFrom under w's wrappers (those with an
// Unwrap method, as http.ResponseController finds the connection), nil
// when there is none.
func readerFrom(w http.ResponseWriter) io.ReaderFrom {
	for {
		if rf, ok := w.(io.ReaderFrom); ok {
			return rf
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}

// progressReader moves the read deadline on with every read.
type progressReader struct {
	r  io.Reader
	rc *http.ResponseController
}

func (p progressReader) Read(b []byte) (int, error) {
	_ = p.rc.SetReadDeadline(time.Now().Add(transferIdle))
	return p.r.Read(b)
}

func resultOf(status int) string {
	switch status {
	case http.StatusOK, http.StatusPartialContent:
		return "served"
	case http.StatusNotModified:
		return "not_modified"
	case http.StatusPreconditionFailed:
		return "precondition_failed"
	case http.StatusRequestedRangeNotSatisfiable:
		return "range_not_satisfiable"
	}
	return strconv.Itoa(status)
}

// answerPlan is what an answer will carry: its status and the n bytes
// from start.
type answerPlan struct {
	status   int
	start, n int64
}

// plan decides the answer to r for a dataset of size bytes whose strong
// ETag is etag (RFC 9110 section 13): If-Match, then If-None-Match, then
// Range with If-Range; dates are not validators here (the ETag is the
// content's hash). One range is served; several, or one that does not
// parse, get the whole, as RFC 9110 allows. A HEAD carries no bytes.
func plan(r *http.Request, etag string, size int64) answerPlan {
	whole := answerPlan{status: http.StatusOK, n: size}
	if r.Method == http.MethodHead {
		whole.n = 0
	}
	if im := r.Header.Values("If-Match"); len(im) > 0 && !etagListMatches(im, etag, false) {
		return answerPlan{status: http.StatusPreconditionFailed}
	}
	if inm := r.Header.Values("If-None-Match"); len(inm) > 0 && etagListMatches(inm, etag, true) {
		return answerPlan{status: http.StatusNotModified}
	}
	rng := r.Header.Get("Range")
	if rng == "" || r.Method == http.MethodHead {
		return whole
	}
	if ir := r.Header.Get("If-Range"); ir != "" && ir != etag {
		return whole
	}
	spec, ok := strings.CutPrefix(rng, "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return whole
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return whole
	}
	if first == "" {
		k, err := strconv.ParseInt(last, 10, 64)
		switch {
		case err != nil || k < 0:
			return whole
		case k == 0 || size == 0:
			return answerPlan{status: http.StatusRequestedRangeNotSatisfiable}
		}
		k = min(k, size)
		return answerPlan{status: http.StatusPartialContent, start: size - k, n: k}
	}
	a, err := strconv.ParseInt(first, 10, 64)
	if err != nil || a < 0 {
		return whole
	}
	if a >= size {
		return answerPlan{status: http.StatusRequestedRangeNotSatisfiable}
	}
	b := size - 1
	if last != "" {
		if b, err = strconv.ParseInt(last, 10, 64); err != nil || b < a {
			return whole
		}
		b = min(b, size-1)
	}
	return answerPlan{status: http.StatusPartialContent, start: a, n: b - a + 1}
}

// etagListMatches reports whether a list of entity tags (the values of an
// If-Match or If-None-Match field) holds "*" or etag: compared weakly (a
// W/ prefix ignored) for If-None-Match, strongly for If-Match.
func etagListMatches(fields []string, etag string, weak bool) bool {
	for _, f := range fields {
		for _, t := range strings.Split(f, ",") {
			t = strings.TrimSpace(t)
			if t == "*" {
				return true
			}
			if weak {
				t = strings.TrimPrefix(t, "W/")
			}
			if t == etag {
				return true
			}
		}
	}
	return false
}

// ownerEndpoint is the endpoint the city of id registered, or "".
func (s *Server) ownerEndpoint(id code.ID) string {
	view := s.b.Latest()
	if view == nil {
		return ""
	}
	city, err := code.Parse(id.CityCode())
	if err != nil {
		return ""
	}
	rec, ok, err := registry.GetRecord(view, city.String())
	if err != nil || !ok || rec.City == nil {
		return ""
	}
	return rec.City.Endpoint
}

// putData serves PUT /v1/data/{id}: the dataset's bytes, from one of its
// admins. Without Content-Range the body is the whole; with
// "bytes S-E/SIZE" it is a chunk that must start where the bytes received
// end; "bytes */SIZE" with no body asks where that is. An incomplete
// upload is answered 308 with Range: bytes=0-(received-1), the last
// chunk 201 once the whole hashes to the ledger's SHA-256.
func (s *Server) putData(w http.ResponseWriter, r *http.Request) {
	id, a, ok := s.dataRequest(w, r, share.Upload)
	if !ok {
		return
	}
	ds := a.Dataset
	if !a.Serves {
		detail := "this node keeps no datasets of city " + id.CityCode() + " ([data] cities, or the endpoint the city registered)"
		if ep := s.ownerEndpoint(id); ep != "" {
			detail += "; its city's node is " + ep
		}
		writeProblem(w, wire.Problem{Code: wire.CodeDataNotHere, Detail: detail, Height: a.Height})
		return
	}
	start, end, query, perr := contentRange(r.Header.Get("Content-Range"), ds.Size)
	if perr != "" {
		writeProblem(w, wire.Problem{Code: wire.CodeBadRequest, Detail: perr})
		return
	}
	st := s.opts.Data.Store()
	done := func(n int64, status int, result string) bool {
		e, err := s.logAccess(r, id, accesslog.Entry{Key: a.Key, Height: a.Height, Bytes: n, Status: status, Result: result})
		if err != nil {
			writeProblem(w, internalProblem(s.log, r, err))
			return false
		}
		receipt(w, e)
		return true
	}
	bind := func() bool {
		if err := st.Bind(id.String(), ds.SHA256); err != nil {
			writeProblem(w, internalProblem(s.log, r, err))
			return false
		}
		return true
	}
	has, err := st.Has(ds.SHA256)
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	if has && a.Bound {
		// Uploaded for this dataset before: nothing to send.
		if done(0, http.StatusOK, "stored") {
			s.writeJSON(w, http.StatusOK, wire.UploadAnswer{ID: id.String(), SHA256: ds.SHA256, Size: ds.Size, Received: ds.Size, Complete: true})
		}
		return
	}
	// Its size first, before anything is written for it.
	if f := s.opts.Data.CanTake(ds, ds.Size); f != nil {
		writeProblem(w, wire.Problem{Code: f.Code, Detail: f.Msg, Height: a.Height})
		return
	}
	// Bytes stored for another dataset with the same SHA-256 are bound to
	// this one only once its admin has sent them too: the hash is public
	// on the ledger, so naming it proves nothing, and binding on it alone
	// would let any admin serve, or quarantine, another dataset's bytes.
	upload := st.Upload
	if has {
		upload = st.Reupload
	}
	up, err := upload(ds.SHA256, ds.Size)
	if err != nil {
		if errors.Is(err, datastore.ErrBusy) {
			writeProblem(w, wire.Problem{Code: wire.CodeUploadOffset, Detail: "another upload of these bytes is in progress: try again when it ends"})
			return
		}
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	defer up.Close()
	if f := s.opts.Data.CanTake(ds, up.Offset()); f != nil {
		writeProblem(w, wire.Problem{Code: f.Code, Detail: f.Msg, Height: a.Height})
		return
	}
	incomplete := func() {
		if off := up.Offset(); off > 0 {
			w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", off-1))
		}
	}
	if query {
		incomplete()
		if done(0, http.StatusPermanentRedirect, "upload_status") {
			s.writeJSON(w, http.StatusPermanentRedirect, wire.UploadAnswer{ID: id.String(), SHA256: ds.SHA256, Size: ds.Size, Received: up.Offset()})
		}
		return
	}
	if start != up.Offset() {
		incomplete()
		writeProblem(w, wire.Problem{Code: wire.CodeUploadOffset,
			Detail: fmt.Sprintf("the chunk starts at byte %d, but %d bytes of %d are received: send from %d", start, up.Offset(), ds.Size, up.Offset())})
		return
	}
	body := progressReader{http.MaxBytesReader(w, r.Body, end-start), http.NewResponseController(w)}
	n, err := up.WriteAt(r.Context(), body, start)
	if err != nil && up.Offset() < start+(end-start) {
		// A body cut short keeps what was received (fsynced): the client
		// resumes from the Range of its next status query.
		s.log.Warn("upload interrupted", "id", id.String(), "received", up.Offset(), "err", err)
	}
	if up.Offset() < ds.Size {
		incomplete()
		if done(n, http.StatusPermanentRedirect, "uploading") {
			s.writeJSON(w, http.StatusPermanentRedirect, wire.UploadAnswer{ID: id.String(), SHA256: ds.SHA256, Size: ds.Size, Received: up.Offset()})
		}
		return
	}
	if err := up.Complete(); err != nil {
		if errors.Is(err, datastore.ErrDigestMismatch) {
			if done(n, wire.HTTPStatus(wire.CodeDigestMismatch), wire.CodeDigestMismatch) {
				writeProblem(w, wire.Problem{Code: wire.CodeDigestMismatch,
					Detail: fmt.Sprintf("the %d bytes received do not hash to %s, the SHA-256 of %s on the ledger: nothing is kept; upload again from byte 0", ds.Size, ds.SHA256, id)})
			}
			return
		}
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	if bind() && done(n, http.StatusCreated, "uploaded") {
		s.writeJSON(w, http.StatusCreated, wire.UploadAnswer{ID: id.String(), SHA256: ds.SHA256, Size: ds.Size, Received: ds.Size, Complete: true})
	}
}

// contentRange parses an upload's Content-Range against the dataset's
// size: [start, end) of the chunk, or query for "bytes */SIZE". A missing
// header is the whole body. problem is "" when it parses.
func contentRange(v string, size int64) (start, end int64, query bool, problem string) {
	if v == "" {
		return 0, size, false, ""
	}
	spec, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, 0, false, "Content-Range " + quote(v) + " is not \"bytes FIRST-LAST/SIZE\" or \"bytes */SIZE\""
	}
	rng, total, ok := strings.Cut(spec, "/")
	t, err := strconv.ParseInt(total, 10, 64)
	if !ok || err != nil {
		return 0, 0, false, "Content-Range " + quote(v) + ": the size after '/' is not a number"
	}
	if t != size {
		return 0, 0, false, fmt.Sprintf("Content-Range %s: the size is %d, but the dataset's DATA value on the ledger says %d bytes", quote(v), t, size)
	}
	if rng == "*" {
		return 0, 0, true, ""
	}
	a, b, ok := strings.Cut(rng, "-")
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || first < 0 || last < first || last >= size {
		return 0, 0, false, fmt.Sprintf("Content-Range %s: not a range FIRST-LAST within 0-%d", quote(v), size-1)
	}
	return first, last + 1, false, ""
}

// getAccessLog serves GET /v1/access-log/{id}: a page of the dataset's
// access log, to its admins, with the log's head. The reader checks the
// chain and the ledger's anchors (GET /v1/anchors/{id}) itself.
func (s *Server) getAccessLog(w http.ResponseWriter, r *http.Request) {
	id, ok := s.dataID(w, r)
	if !ok {
		return
	}
	limit, ok := listLimit(w, r)
	if !ok {
		return
	}
	var after uint64
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeProblem(w, wire.Problem{Code: wire.CodeBadRequest, Detail: "after " + quote(v) + " is not an entry number"})
			return
		}
		after = n
	}
	a, ok := s.decide(w, r, id, share.ReadLog)
	if !ok {
		return
	}
	lg := s.opts.Data.Log()
	entries, err := lg.Entries(id.String(), after, limit)
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	count, head, err := lg.Head(id.String())
	if err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	out := accesslog.Page{Dataset: id.String(), Height: a.Height, Entries: count, Head: head, Items: entries}
	if out.Items == nil {
		out.Items = []accesslog.Entry{}
	}
	if len(entries) == limit && entries[len(entries)-1].Seq < count {
		out.Next = strconv.FormatUint(entries[len(entries)-1].Seq, 10)
	}
	// Reading the log is an access too: logged after the page is read, so
	// the page's head is the log as it was asked.
	if _, err := s.logAccess(r, id, accesslog.Entry{Key: a.Key, Height: a.Height, Status: http.StatusOK, Result: "log_read"}); err != nil {
		writeProblem(w, internalProblem(s.log, r, err))
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}
