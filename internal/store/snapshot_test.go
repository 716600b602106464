package store

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"strings"
	"testing"
)

// snapshotNode is one node of a hand-made snapshot stream.
type snapshotNode struct {
	height  int8
	version uint64
	key     []byte // as the stream holds it: delta-encoded for a leaf
	value   []byte // nil: none
}

func snapshotStream(nodes []snapshotNode) []byte {
	var raw bytes.Buffer
	uv := func(x uint64) { raw.Write(binary.AppendUvarint(nil, x)) }
	for _, n := range nodes {
		raw.WriteByte(byte(n.height))
		uv(n.version)
		uv(uint64(len(n.key)))
		raw.Write(n.key)
		if n.value == nil {
			uv(0)
		} else {
			uv(uint64(len(n.value)) + 1)
			raw.Write(n.value)
		}
	}
	raw.WriteByte(endMarker)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(raw.Bytes())
	zw.Close()
	return out.Bytes()
}

// delta is a leaf key sharing shared bytes with the key before it.
func delta(shared uint64, rest string) []byte {
	return append(binary.AppendUvarint(nil, shared), rest...)
}

// TestImportRefusesMalformed: a stream that IAVL's importer would index
// out of range, or allocate without end for, is an error, never a panic;
// the store is then reset and takes a genuine stream.
func TestImportRefusesMalformed(t *testing.T) {
	for _, c := range []struct {
		name  string
		nodes []snapshotNode
		want  string
	}{
		{"a key sharing more than the key before it", []snapshotNode{
			{0, 1, delta(0, "a"), []byte("x")}, {0, 1, delta(5, "b"), []byte("y")}}, "sharing 5 bytes with a key of 1"},
		{"a key sharing terabytes", []snapshotNode{
			{0, 1, delta(1<<40, "a"), []byte("x")}}, "sharing 1099511627776 bytes"},
		{"a branch with no children", []snapshotNode{
			{1, 0, nil, nil}}, "malformed node"},
		{"a branch with one child", []snapshotNode{
			{0, 1, delta(0, "a"), []byte("x")}, {1, 0, nil, nil}}, "malformed node"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, err := OpenMemory(Options{ValueCacheBytes: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			_, err = st.Import(1, bytes.NewReader(snapshotStream(c.nodes)), nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("import: %v; want an error with %q", err, c.want)
			}
			if err := st.Reset(); err != nil {
				t.Fatal(err)
			}
			src, _ := OpenMemory(Options{ValueCacheBytes: -1})
			defer src.Close()
			src.Set([]byte("k"), []byte("v"))
			root, v, _ := src.Commit()
			var snap bytes.Buffer
			if err := src.Export(v, &snap); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Import(v, &snap, root); err != nil {
				t.Fatalf("a genuine stream after the refused one: %v", err)
			}
		})
	}
}
