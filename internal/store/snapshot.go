package store

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/cosmos/iavl"
)

// The snapshot stream of format 1: gzip over a sequence of IAVL export
// nodes in the order IAVL exports them (post-order), each as
//
//	height (1 byte, as int8) | version (uvarint) |
//	key length (uvarint) key | value length + 1 (uvarint; 0: no value) value
//
// then an end marker: a height byte of 0x7f. Keys are delta-encoded against
// the previous key by IAVL's compress exporter.
const (
	SnapshotFormat = 1
	endMarker      = 0x7f
	// maxSnapshotField bounds a key or value read from a snapshot, so a
	// corrupt or hostile stream cannot make the node allocate without end.
	maxSnapshotField = 16 << 20
)

// Export writes committed version v as a snapshot stream to w.
func (s *Store) Export(v int64, w io.Writer) error {
	imm, err := s.tree.GetImmutable(v)
	if err != nil {
		return fmt.Errorf("export version %d: %w", v, err)
	}
	exp, err := imm.Export()
	if err != nil {
		return fmt.Errorf("export version %d: %w", v, err)
	}
	defer exp.Close()
	zw := gzip.NewWriter(w)
	bw := bufio.NewWriterSize(zw, 1<<16)
	ce := iavl.NewCompressExporter(exp)
	var buf [binary.MaxVarintLen64]byte
	uv := func(x uint64) error {
		n := binary.PutUvarint(buf[:], x)
		_, err := bw.Write(buf[:n])
		return err
	}
	for {
		node, err := ce.Next()
		if errors.Is(err, iavl.ErrorExportDone) {
			break
		}
		if err != nil {
			return fmt.Errorf("export version %d: %w", v, err)
		}
		if err := bw.WriteByte(byte(node.Height)); err != nil {
			return err
		}
		if err := uv(uint64(node.Version)); err != nil {
			return err
		}
		if err := uv(uint64(len(node.Key))); err != nil {
			return err
		}
		if _, err := bw.Write(node.Key); err != nil {
			return err
		}
		if node.Value == nil {
			err = uv(0)
		} else if err = uv(uint64(len(node.Value)) + 1); err == nil {
			_, err = bw.Write(node.Value)
		}
		if err != nil {
			return err
		}
	}
	if err := bw.WriteByte(endMarker); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

// Import replaces the store's state with version v read from a snapshot
// stream, and returns the imported root hash. The store must hold no
// committed version (see Reset). When want is not nil, a state that
// hashes to anything else is refused and never becomes readable: the
// caller resets the store.
func (s *Store) Import(v int64, r io.Reader, want []byte) ([]byte, error) {
	s.saving.Lock()
	defer s.saving.Unlock()
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("import version %d: %w", v, err)
	}
	br := bufio.NewReaderSize(zr, 1<<16)
	imp, err := s.tree.Import(v)
	if err != nil {
		return nil, fmt.Errorf("import version %d: %w", v, err)
	}
	defer imp.Close()
	ci := iavl.NewCompressImporter(imp)
	field := func(what string) ([]byte, bool, error) {
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return nil, false, fmt.Errorf("%s length: %w", what, err)
		}
		if n > maxSnapshotField {
			return nil, false, fmt.Errorf("%s of %d bytes, more than %d", what, n, maxSnapshotField)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, false, fmt.Errorf("%s: %w", what, err)
		}
		return b, true, nil
	}
	lastKeyLen := 0
	for nodes := 0; ; nodes++ {
		h, err := br.ReadByte()
		if err != nil {
			return nil, fmt.Errorf("import version %d: node %d: %w", v, nodes, err)
		}
		if h == endMarker {
			break
		}
		ver, err := binary.ReadUvarint(br)
		if err != nil {
			return nil, fmt.Errorf("import version %d: node %d version: %w", v, nodes, err)
		}
		key, _, err := field("key")
		if err != nil {
			return nil, fmt.Errorf("import version %d: node %d: %w", v, nodes, err)
		}
		vlen, err := binary.ReadUvarint(br)
		if err != nil {
			return nil, fmt.Errorf("import version %d: node %d value length: %w", v, nodes, err)
		}
		var value []byte
		if vlen > 0 {
			if vlen-1 > maxSnapshotField {
				return nil, fmt.Errorf("import version %d: node %d: value of %d bytes", v, nodes, vlen-1)
			}
			value = make([]byte, vlen-1)
			if _, err := io.ReadFull(br, value); err != nil {
				return nil, fmt.Errorf("import version %d: node %d value: %w", v, nodes, err)
			}
		}
		// A leaf's key is delta-encoded against the leaf before it:
		// IAVL allocates the length the delta names, so a delta longer
		// than that key is refused before it can ask for terabytes.
		if int8(h) == 0 {
			shared, n := binary.Uvarint(key)
			if n <= 0 || shared > uint64(lastKeyLen) {
				return nil, fmt.Errorf("import version %d: node %d: a key sharing %d bytes with a key of %d", v, nodes, shared, lastKeyLen)
			}
			lastKeyLen = int(shared) + len(key) - n
		}
		node := &iavl.ExportNode{Height: int8(h), Version: int64(ver), Key: key, Value: value}
		if err := addNode(ci, node); err != nil {
			return nil, fmt.Errorf("import version %d: node %d: %w", v, nodes, err)
		}
	}
	if err := imp.Commit(); err != nil {
		return nil, fmt.Errorf("import version %d: commit: %w", v, err)
	}
	imm, err := s.tree.GetImmutable(v)
	if err != nil {
		return nil, fmt.Errorf("import version %d: %w", v, err)
	}
	if want != nil && !bytes.Equal(imm.Hash(), want) {
		return imm.Hash(), fmt.Errorf("import version %d: the state hashes to %X, want %X", v, imm.Hash(), want)
	}
	s.mu.Lock()
	s.committed, s.settled, s.oldest = imm, v, v
	s.mu.Unlock()
	s.resetCache(v)
	return imm.Hash(), nil
}

// addNode adds a node to IAVL's importer. IAVL's compress importer
// indexes by what the stream says (a key delta longer than the key before
// it, a branch with no children on its stack) and panics on a stream that
// is damaged or hostile, such as a state sync chunk from a peer or a
// backup archive (found by internal/backup's FuzzRead): that is an error
// here, and the caller resets the store.
func addNode(ci iavl.NodeImporter, node *iavl.ExportNode) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed node (key %d bytes, height %d): %v", len(node.Key), node.Height, r)
		}
	}()
	return ci.Add(node)
}

// Reset deletes everything in the store: before a snapshot is restored
// into it, since a restore interrupted by a crash leaves nodes behind.
func (s *Store) Reset() error {
	s.saving.Lock()
	defer s.saving.Unlock()
	it, err := s.db.Iterator(nil, nil)
	if err != nil {
		return fmt.Errorf("reset store: %w", err)
	}
	var keys [][]byte
	for ; it.Valid(); it.Next() {
		keys = append(keys, append([]byte(nil), it.Key()...))
		if len(keys) == 10_000 {
			if err := s.deleteKeys(keys); err != nil {
				it.Close()
				return err
			}
			keys = keys[:0]
		}
	}
	if err := it.Error(); err != nil {
		it.Close()
		return fmt.Errorf("reset store: %w", err)
	}
	it.Close()
	if err := s.deleteKeys(keys); err != nil {
		return err
	}
	tree := iavl.NewMutableTree(idbWrap(s.db), s.cacheNodes, false, s.logger)
	if _, err := tree.Load(); err != nil {
		return fmt.Errorf("reset store: %w", err)
	}
	s.tree = tree
	s.mu.Lock()
	s.committed, s.settled, s.oldest = nil, 0, 0
	s.mu.Unlock()
	s.resetCache(0)
	return nil
}

func (s *Store) deleteKeys(keys [][]byte) error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("reset store: %w", err)
		}
	}
	if err := b.WriteSync(); err != nil {
		return fmt.Errorf("reset store: %w", err)
	}
	return nil
}
