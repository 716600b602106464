package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
)

// ResolveAt returns an identifier's record as it was at height h.
func (c *Client) ResolveAt(ctx context.Context, id string, h int64) (RecordAnswer, error) {
	var out RecordAnswer
	err := c.do(ctx, http.MethodGet, "/v1/ids/"+escapeID(id)+"?height="+strconv.FormatInt(h, 10), nil, &out)
	return out, err
}

// History returns a page of an identifier's versions, oldest first, after
// version after (0 for the first page).
func (c *Client) History(ctx context.Context, id string, after uint64, limit int) (History, error) {
	var out History
	err := c.do(ctx, http.MethodGet, "/v1/ids/"+escapeID(id)+"/history"+page(strconv.FormatUint(after, 10), "0", limit), nil, &out)
	return out, err
}

// Children returns a page of a node's children after the cursor.
func (c *Client) Children(ctx context.Context, id, after string, limit int) (Children, error) {
	var out Children
	err := c.do(ctx, http.MethodGet, "/v1/ids/"+escapeID(id)+"/children"+page(after, "", limit), nil, &out)
	return out, err
}

// Applications returns a page of applications, of one status or all ("").
func (c *Client) Applications(ctx context.Context, status, after string, limit int) (ApplicationList, error) {
	q := pageValues(after, "", limit)
	if status != "" {
		q.Set("status", status)
	}
	var out ApplicationList
	err := c.do(ctx, http.MethodGet, "/v1/applications"+encode(q), nil, &out)
	return out, err
}

// Block returns block h (0: the latest) with its transactions.
func (c *Client) Block(ctx context.Context, h int64) (BlockInfo, error) {
	hs := "latest"
	if h > 0 {
		hs = strconv.FormatInt(h, 10)
	}
	var out BlockInfo
	err := c.do(ctx, http.MethodGet, "/v1/blocks/"+hs, nil, &out)
	return out, err
}

// Tx returns a committed transaction by hash.
func (c *Client) Tx(ctx context.Context, hash string) (TxInfo, error) {
	var out TxInfo
	err := c.do(ctx, http.MethodGet, "/v1/txs/"+url.PathEscape(hash), nil, &out)
	return out, err
}

// Grants returns the grants of a dataset, or (dataset "") to a grantee.
func (c *Client) Grants(ctx context.Context, dataset, grantee, after string, limit int) (GrantList, error) {
	q := pageValues(after, "", limit)
	if dataset != "" {
		q.Set("dataset", dataset)
	} else {
		q.Set("grantee", grantee)
	}
	var out GrantList
	err := c.do(ctx, http.MethodGet, "/v1/grants"+encode(q), nil, &out)
	return out, err
}

// Anchors returns a page of a dataset's anchored access-log heads
// (anchor_log) whose counts are more than after, ascending, and its latest
// anchor. AnchorList.Next, when set, is the after of the next page.
func (c *Client) Anchors(ctx context.Context, id string, after uint64, limit int) (AnchorList, error) {
	var out AnchorList
	err := c.do(ctx, http.MethodGet, "/v1/anchors/"+escapeID(id)+page(strconv.FormatUint(after, 10), "0", limit), nil, &out)
	return out, err
}

func pageValues(after, none string, limit int) url.Values {
	q := url.Values{}
	if after != none && after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return q
}

func page(after, none string, limit int) string { return encode(pageValues(after, none, limit)) }

func encode(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// ResolveProof returns an identifier's record with its proof, at height h
// (0: the latest; its signed header is the next block's). For an unknown
// identifier the error is an *Error whose Problem carries the proof of
// absence.
func (c *Client) ResolveProof(ctx context.Context, id string, h int64) (RecordAnswer, error) {
	q := url.Values{"proof": {"true"}}
	if h > 0 {
		q.Set("height", strconv.FormatInt(h, 10))
	}
	var out RecordAnswer
	err := c.do(ctx, http.MethodGet, "/v1/ids/"+escapeID(id)+encode(q), nil, &out)
	return out, err
}

// QR returns the QR code of an identifier's resolver URL, format "png" or
// "svg", size in pixels (0: the node's default), level L, M, Q or H ("":
// M).
func (c *Client) QR(ctx context.Context, id, format string, size int, level string) ([]byte, error) {
	q := url.Values{}
	if size > 0 {
		q.Set("size", strconv.Itoa(size))
	}
	if level != "" {
		q.Set("level", level)
	}
	return c.raw(ctx, "/v1/ids/"+escapeID(id)+"/qr."+format+encode(q))
}

// Handle resolves a handle (prefix/suffix) through the Handle-compatible
// REST API, with optional type and index filters. Its answer carries the
// Handle response code; an HTTP error status is not an error here, since
// Handle clients read the code.
func (c *Client) Handle(ctx context.Context, handle string, types []string, indexes []int) (HandleAnswer, error) {
	q := url.Values{}
	for _, t := range types {
		q.Add("type", t)
	}
	for _, i := range indexes {
		q.Add("index", strconv.Itoa(i))
	}
	var out HandleAnswer
	b, err := c.send(ctx, http.MethodGet, "/api/handles/"+handle+encode(q), nil)
	var e *Error
	if errors.As(err, &e) {
		// The Handle answer rides on the error status.
		return out, json.Unmarshal([]byte(e.Problem.Detail), &out)
	}
	if err != nil {
		return out, err
	}
	return out, json.Unmarshal(b, &out)
}

// Validators returns the validator set.
func (c *Client) Validators(ctx context.Context) (ValidatorList, error) {
	var out ValidatorList
	err := c.do(ctx, http.MethodGet, "/v1/validators", nil, &out)
	return out, err
}

// Upgrade returns the application version, the pending upgrade plan and
// the upgrades that ran.
func (c *Client) Upgrade(ctx context.Context) (UpgradeStatus, error) {
	var out UpgradeStatus
	err := c.do(ctx, http.MethodGet, "/v1/upgrade", nil, &out)
	return out, err
}

// Proposals returns the governance proposals waiting for approvals.
func (c *Client) Proposals(ctx context.Context) (ProposalList, error) {
	var out ProposalList
	err := c.do(ctx, http.MethodGet, "/v1/proposals", nil, &out)
	return out, err
}
