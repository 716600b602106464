package client_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cityid/cityid/client"
)

// Every transaction kind, built and sent by a program that imports the
// client alone: the registry authority (here the 1-of-1 authority of a
// node started with no configuration, whose key is operator) issues a
// city code to Alice, who builds the city's tree of identifiers, shares a
// dataset and hands an identifier on; the authority then governs.
// TestEveryTransaction runs the same against a node of its own.
func Example_everyTransaction() {
	ctx := context.Background()
	c, err := client.New(client.DefaultNode)
	if err != nil {
		fmt.Println(err)
		return
	}
	var operator ed25519.PrivateKey // the authority's key, from its key file
	if err := everyTransaction(ctx, c, operator, os.Stdout); err != nil {
		fmt.Println(err)
	}
}

// everyTransaction sends one transaction of every kind, printing what
// each did.
func everyTransaction(ctx context.Context, c *client.Client, operator ed25519.PrivateKey, out io.Writer) error {
	alicePub, alice, err := ed25519.GenerateKey(nil)
	if err != nil {
		return err
	}
	bobPub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		return err
	}
	op, err := c.NewSigner(ctx, operator)
	if err != nil {
		return err
	}
	a, err := c.NewSigner(ctx, alice)
	if err != nil {
		return err
	}
	send := func(s *client.Signer, kind string, msg any) (client.Outcome, error) {
		ans, err := s.Send(ctx, kind, msg)
		if err != nil {
			return client.Outcome{}, fmt.Errorf("%s: %w", kind, err)
		}
		r := ans.Result
		fmt.Fprintln(out, strings.Join(strings.Fields(kind+" "+r.Status+" "+r.ID+" "+r.CityCode), " "))
		return r, nil
	}

	// A city code, applied for and approved; another application, refused.
	app, err := send(op, client.KindApplyCity, client.ApplyCity{Country: "156", CityNumber: "130100",
		Name: "石家庄市", NameEn: "Shijiazhuang", Admins: []string{client.KeyText(alicePub)}})
	if err != nil {
		return err
	}
	issued, err := send(op, client.KindApproveApplication, client.Decision{Application: app.Application, Hash: app.Hash})
	if err != nil {
		return err
	}
	other, err := send(op, client.KindApplyCity, client.ApplyCity{Country: "156", CityNumber: "130200", Name: "唐山市"})
	if err != nil {
		return err
	}
	if _, err := send(op, client.KindRejectApplication, client.Decision{Application: other.Application, Hash: other.Hash, Reason: "one city is enough for an example"}); err != nil {
		return err
	}

	// The city's education sector, a unit of it, and identifiers under it.
	city := issued.CityCode
	if _, err := send(a, client.KindRegisterSector, client.RegisterSector{ID: city + ".85"}); err != nil {
		return err
	}
	unit, err := send(a, client.KindRegisterUnit, client.RegisterUnit{Parent: city + ".85", Name: "Education bureau"})
	if err != nil {
		return err
	}
	school := unit.ID + "/school-0042"
	if _, err := send(a, client.KindRegister, client.Register{ID: school,
		Values: []client.Value{{Type: client.TypeURL, Data: "https://school-0042.example/"}}}); err != nil {
		return err
	}
	if _, err := send(a, client.KindRegisterBatch, client.RegisterBatch{Entries: []client.BatchEntry{
		{ID: unit.ID + "/school-0043", Values: []client.Value{{Type: client.TypeText, Data: "School 43"}}},
		{ID: unit.ID + "/school-0044", Values: []client.Value{{Type: client.TypeText, Data: "School 44"}}},
	}}); err != nil {
		return err
	}
	if _, err := send(a, client.KindUpdate, client.Update{ID: school, Version: 1, Values: []client.Value{
		{Type: client.TypeURL, Data: "https://school-0042.example/"}, {Type: client.TypeEmail, Data: "office@school-0042.example"}}}); err != nil {
		return err
	}
	if _, err := send(a, client.KindDeactivate, client.SetStatus{ID: school, Reason: "closed for the summer"}); err != nil {
		return err
	}
	if _, err := send(a, client.KindReactivate, client.SetStatus{ID: school}); err != nil {
		return err
	}

	// A dataset, shared with the sector for a day, then not.
	data := []byte("school,pupils\n0042,640\n")
	sum := sha256.Sum256(data)
	dataset := unit.ID + "/enrolment-2026"
	if _, err := send(a, client.KindRegister, client.Register{ID: dataset, Values: []client.Value{{Type: client.TypeData,
		Dataset: &client.Dataset{URI: "https://data.example/enrolment-2026.csv", SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)), MediaType: "text/csv"}}}}); err != nil {
		return err
	}
	grant := client.GrantAccess{Dataset: dataset, Grantee: city + ".85", Expires: time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)}
	if _, err := send(a, client.KindGrantAccess, grant); err != nil {
		return err
	}
	if _, err := send(a, client.KindRevokeAccess, client.RevokeAccess{Dataset: dataset, Grantee: city + ".85"}); err != nil {
		return err
	}
	// The owner's node logged one request for it (a refusal, say): the
	// log's head, anchored, is what a grantee later checks the log by.
	entry := sha256.Sum256([]byte("entry 1"))
	if _, err := send(a, client.KindAnchorLog, client.AnchorLog{Dataset: dataset, Entries: 1, Head: hex.EncodeToString(entry[:])}); err != nil {
		return err
	}
	anchors, err := c.Anchors(ctx, dataset, 0, 10)
	if err != nil {
		return err
	}
	if len(anchors.Anchors) != 1 || anchors.Latest == nil || anchors.Latest.Head != hex.EncodeToString(entry[:]) {
		return fmt.Errorf("anchors of %s: %+v, want the one just sent", dataset, anchors)
	}
	if _, err := send(a, client.KindTransfer, client.Transfer{ID: school, Admins: []string{client.KeyText(bobPub)}}); err != nil {
		return err
	}

	// Governance: a validator's weight, a larger authority, and, under it,
	// a proposal that waits for a second approval and is withdrawn.
	vals, err := c.Validators(ctx)
	if err != nil {
		return err
	}
	if len(vals.Validators) == 0 {
		return fmt.Errorf("the node has no validators")
	}
	v := vals.Validators[0]
	if _, err := send(op, client.KindSetValidator, client.SetValidator{PubKey: v.PubKey, Power: v.Power + 1}); err != nil {
		return err
	}
	// An upgrade scheduled far ahead, then cancelled (height 0): 1 of 1.
	if _, err := send(op, client.KindSetUpgrade, client.SetUpgrade{Name: "v4-example", Height: 1_000_000_000, Info: "an example"}); err != nil {
		return err
	}
	if _, err := send(op, client.KindSetUpgrade, client.SetUpgrade{Name: "v4-example"}); err != nil {
		return err
	}
	if _, err := send(op, client.KindSetAuthority, client.SetAuthority{
		Members: []string{client.KeyText(operator.Public().(ed25519.PublicKey)), client.KeyText(bobPub)}, Threshold: 2}); err != nil {
		return err
	}
	proposal, err := send(op, client.KindSetCity, client.SetCity{City: city, Status: "deactivated", Reason: "an example"})
	if err != nil {
		return err
	}
	_, err = send(op, client.KindWithdrawVote, client.WithdrawVote{Proposal: proposal.Proposal})
	return err
}
