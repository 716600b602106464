package code

import "strings"

// Handle returns the identifier in the Handle System's shape: the prefix is
// the node code, the suffix the local id ("" for a node). The full handle of
// an object is prefix + "/" + suffix, which is its canonical text form.
func (id ID) Handle() (prefix, suffix string) { return id.NodeCode(), id.Local }

// ParseHandle parses a Handle prefix and suffix. The prefix must be a node
// code (ErrNotANode if it carries a local id); an empty suffix names the node
// itself. Error positions count in the prefix for prefix errors and in the
// suffix for suffix errors; the message says which.
func ParseHandle(prefix, suffix string) (ID, error) {
	id, err := parse(prefix)
	if err != nil {
		return ID{}, err
	}
	if !id.IsNode() {
		return ID{}, &Error{Code: ErrNotANode, Pos: runePos(prefix, strings.IndexByte(prefix, '/')),
			Msg: "handle prefix must be a node code: the local id goes in the suffix"}
	}
	if suffix == "" {
		return id, nil
	}
	if f := checkLocal(suffix); f != nil {
		err := f.at(suffix, 0)
		err.Msg = "handle suffix: " + err.Msg
		return ID{}, err
	}
	id.Local = asciiLower(suffix)
	return id, nil
}
