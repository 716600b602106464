// Package client is the Go client of a CityID node's HTTP API: resolve
// identifiers, read the directory, and sign and submit transactions. The
// cityid command line is built on it.
//
// Signing happens here, in the caller's process: a private key is never
// sent to a node. Every transaction kind, its message type, the answers'
// types and the error codes are named here, so a program builds and sends
// every transaction with this package alone (see the example).
//
// The client must not link the server: it imports only the wire types,
// the registry's transaction types, the verifier, the identifier grammar
// and CometBFT's light client, which TestClientImports enforces.
package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cityid/cityid/internal/registry"
	"github.com/cityid/cityid/internal/wire"
)

// DefaultNode is the API address of a local node started with no flags.
const DefaultNode = wire.DefaultNodeURL

// Client talks to one node.
type Client struct {
	base string
	http *http.Client
	// data carries dataset transfers, which take as long as their bytes
	// do: it has no overall timeout (the caller's context bounds them).
	data *http.Client
	// rateWait bounds how long one call waits out a node's rate limit
	// (429 with Retry-After) before it gives the refusal to its caller.
	rateWait time.Duration
}

// DefaultRateLimitWait is how long a call waits, in all, for a node that
// answers 429 rate_limited with a Retry-After: a script that sends a burst
// slows down to the node's rate instead of failing, and a caller that
// waits longer than this hears the refusal.
const DefaultRateLimitWait = 30 * time.Second

// SetRateLimitWait sets how long a call may wait out a node's rate limit
// in all (0: never wait; the 429 comes back at once as an *Error).
func (c *Client) SetRateLimitWait(d time.Duration) { c.rateWait = max(d, 0) }

// New returns a client of the node at base (e.g. DefaultNode).
func New(base string) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("node address %q is not an http:// or https:// URL", base)
	}
	return &Client{
		base: strings.TrimRight(base, "/"),
		// Submissions wait for their commit: allow for it.
		http:     &http.Client{Timeout: 60 * time.Second},
		data:     &http.Client{},
		rateWait: DefaultRateLimitWait,
	}, nil
}

// Error is a node's refusal: an HTTP status and the problem it described.
type Error struct {
	Status  int
	Problem Problem
}

func (e *Error) Error() string {
	if e.Problem.Code != "" {
		return fmt.Sprintf("%s: %s", e.Problem.Code, e.Problem.Detail)
	}
	return fmt.Sprintf("HTTP %d", e.Status)
}

// Code is the stable error code of err if it is a node's refusal, else "".
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Problem.Code
	}
	return ""
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	b, err := c.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// raw returns the body of a GET as it is (an image, say).
func (c *Client) raw(ctx context.Context, path string) ([]byte, error) {
	return c.send(ctx, http.MethodGet, path, nil)
}

// send sends one request, waiting out the node's rate limit: a request
// refused with 429 was not acted on (the limit is checked before the
// handler; a transaction refused so never reached the mempool), so the
// same request is sent again after the Retry-After the node gave, while
// the call's waits stay within rateWait and ctx.
func (c *Client) send(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	var waited time.Duration
	for {
		b, retry, err := c.sendOnce(ctx, method, path, body)
		if retry <= 0 || waited+retry > c.rateWait {
			return b, err
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
		waited += retry
	}
}

// sendOnce sends one request; retry is the Retry-After of a 429 refusal.
func (c *Client) sendOnce(ctx context.Context, method, path string, body []byte) (_ []byte, retry time.Duration, _ error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w (%s)", method, c.base+path, err, unreachableHint(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(b, &e.Problem) != nil || e.Problem.Code == "" {
			e.Problem = Problem{Status: resp.StatusCode, Code: "http_" + strconv.Itoa(resp.StatusCode), Detail: strings.TrimSpace(string(b))}
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && n > 0 {
				retry = time.Duration(n) * time.Second
			}
		}
		return nil, retry, e
	}
	return b, 0, nil
}

// unreachableHint says what to do about a request that got no answer. A
// node whose certificate this machine does not trust (HTTPS from a private
// CA or a self-signed certificate, docs: README "Install as a service") is
// running: telling its operator to start one would send them the wrong way.
func unreachableHint(err error) string {
	var verify *tls.CertificateVerificationError
	if errors.As(err, &verify) {
		return "the node answers, but its certificate is not trusted here: add its CA to the system's, or name the CA's PEM file in SSL_CERT_FILE"
	}
	return "is a node running there? start one with `cityid start`"
}

// Resolve returns an identifier's record.
func (c *Client) Resolve(ctx context.Context, id string) (RecordAnswer, error) {
	var out RecordAnswer
	err := c.do(ctx, http.MethodGet, "/v1/ids/"+escapeID(id), nil, &out)
	return out, err
}

// escapeID escapes an identifier for a URL path, keeping its '/' (between
// node code and local id) as the path separator the API expects.
func escapeID(id string) string {
	parts := strings.Split(id, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// Status returns the node's status, the network's parameters and authority.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var out Status
	err := c.do(ctx, http.MethodGet, "/v1/status", nil, &out)
	return out, err
}

// Account returns an account's nonce.
func (c *Client) Account(ctx context.Context, key string) (Account, error) {
	var out Account
	err := c.do(ctx, http.MethodGet, "/v1/accounts/"+url.PathEscape(key), nil, &out)
	return out, err
}

// Application returns an application.
func (c *Client) Application(ctx context.Context, n uint64) (Application, error) {
	var out struct {
		Application Application `json:"application"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/applications/"+strconv.FormatUint(n, 10), nil, &out)
	return out.Application, err
}

// Cities returns a page of the city directory after the cursor (empty for
// the first page).
func (c *Client) Cities(ctx context.Context, after string, limit int) (CityList, error) {
	var out CityList
	err := c.do(ctx, http.MethodGet, "/v1/cities"+page(after, "", limit), nil, &out)
	return out, err
}

// Submit sends signed transaction bytes and waits for their commit.
func (c *Client) Submit(ctx context.Context, tx []byte) (TxAnswer, error) {
	var out TxAnswer
	err := c.do(ctx, http.MethodPost, "/v1/txs", tx, &out)
	return out, err
}

// BuildTx signs a transaction of kind with msg for chainID, valid at every
// height. Prefer BuildTxUntil, or a Signer, which bound the heights.
func BuildTx(chainID string, key ed25519.PrivateKey, nonce uint64, kind string, msg any) ([]byte, error) {
	return BuildTxUntil(chainID, key, nonce, 0, kind, msg)
}

// BuildTxUntil signs a transaction of kind with msg for chainID that only a
// block at most validUntil high may hold (0: any). A register_batch body
// travels deflated (EncodingDeflate): a tenth of its bytes, so ten times
// the identifiers a block holds; every other kind's small body travels as
// it is.
func BuildTxUntil(chainID string, key ed25519.PrivateKey, nonce, validUntil uint64, kind string, msg any) ([]byte, error) {
	body, err := registry.NewBodyUntil(kind, nonce, validUntil, msg)
	if err != nil {
		return nil, err
	}
	if kind == KindRegisterBatch {
		env, err := registry.SignDeflate(chainID, body, registry.DeflateLevel, key)
		if err != nil {
			return nil, err
		}
		return env.Encode()
	}
	return registry.Sign(chainID, body, key).Encode()
}

// DefaultValidBlocks is how many blocks past the latest a Signer's
// transactions stay valid: minutes at CityID's block rate, enough to be
// committed, and short enough that a transaction that was lost or refused
// on its way cannot be brought back later, when the state it was meant for
// has changed.
const DefaultValidBlocks = 120

// Send signs msg with key using the account's next nonce, submits it and
// waits for its commit. For many transactions from one key in a row, use a
// Signer, which counts nonces itself.
func (c *Client) Send(ctx context.Context, key ed25519.PrivateKey, kind string, msg any) (TxAnswer, error) {
	s, err := c.NewSigner(ctx, key)
	if err != nil {
		return TxAnswer{}, err
	}
	return s.Send(ctx, kind, msg)
}

// Signer signs transactions of one key, keeping its nonce. Each
// transaction is valid until ValidBlocks past the latest height the signer
// has seen.
type Signer struct {
	c       *Client
	key     ed25519.PrivateKey
	chainID string
	next    uint64
	height  int64
	// ValidBlocks is how many blocks past the latest height seen a
	// transaction stays valid; 0 signs transactions valid at any height.
	ValidBlocks uint64
}

// NewSigner returns a signer for key, reading the chain ID, the latest
// height and the account's next nonce from the node.
func (c *Client) NewSigner(ctx context.Context, key ed25519.PrivateKey) (*Signer, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	return c.SignerAt(ctx, key, st)
}

// SignerAt is NewSigner with the node's status already read (st): a
// program that read it to check the chain before asking for a key's
// passphrase signs with the same answer, and reads only the account.
func (c *Client) SignerAt(ctx context.Context, key ed25519.PrivateKey, st Status) (*Signer, error) {
	acct, err := c.Account(ctx, registry.KeyText(key.Public().(ed25519.PublicKey)))
	if err != nil {
		return nil, err
	}
	return &Signer{c: c, key: key, chainID: st.ChainID, next: acct.NextNonce, height: st.Height, ValidBlocks: DefaultValidBlocks}, nil
}

// Sign returns the transaction bytes of kind and msg with the next nonce,
// and counts the nonce as used.
func (s *Signer) Sign(kind string, msg any) ([]byte, error) {
	var until uint64
	if s.ValidBlocks > 0 {
		until = uint64(max(s.height, 0)) + s.ValidBlocks
	}
	tx, err := BuildTxUntil(s.chainID, s.key, s.next, until, kind, msg)
	if err != nil {
		return nil, err
	}
	s.next++
	return tx, nil
}

// Send signs and submits, waiting for the commit. A transaction refused
// before it reached a block (in the mempool's check) does not use its
// nonce, so the next Send reuses it; one refused in a block has used it,
// as every transaction that reaches a block does. When another program
// signing with the same key took the nonce first, Send fetches the
// account's next nonce and tries again, a bounded number of times.
func (s *Signer) Send(ctx context.Context, kind string, msg any) (TxAnswer, error) {
	for attempt := 0; ; attempt++ {
		tx, err := s.Sign(kind, msg)
		if err != nil {
			return TxAnswer{}, err
		}
		ans, err := s.c.Submit(ctx, tx)
		if ans.Height > s.height {
			s.height = ans.Height
		}
		var e *Error
		if !errors.As(err, &e) || e.Problem.Code == CodeTimeout {
			return ans, err
		}
		if e.Problem.Height > 0 {
			// Refused in a block: the nonce is used.
			s.height = max(s.height, e.Problem.Height)
			return ans, err
		}
		s.next--
		if e.Problem.Code != CodeNonceReplayed || attempt == maxNonceRetries {
			return ans, err
		}
		acct, aerr := s.c.Account(ctx, registry.KeyText(s.key.Public().(ed25519.PublicKey)))
		if aerr != nil {
			return ans, err
		}
		s.next = acct.NextNonce
		if acct.Height > s.height {
			s.height = acct.Height
		}
	}
}

// maxNonceRetries bounds Send's retries when its nonce was taken by a
// concurrent signer of the same key.
const maxNonceRetries = 8
