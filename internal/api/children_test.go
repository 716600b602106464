package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/cityid/cityid/internal/api"
)

// GET /v1/ids/{id}/children: a node's sectors or units first, then the
// objects under it, each in identifier order, in pages whose cursor
// resumes across the two; an object has no children; an unknown node is
// a 404.
func TestChildren(t *testing.T) {
	s := serveStory(t, api.Options{})
	ids := func(c Children) string {
		var out []string
		for _, ch := range c.Children {
			out = append(out, ch.ID+":"+string(ch.Kind)+":"+ch.Status+":"+ch.Name)
		}
		return fmt.Sprint(out)
	}
	var c Children
	s.json("/v1/ids/1561301001/children", http.StatusOK, &c)
	if got := ids(c); c.ID != "1561301001" || c.Height != s.l.Height() || c.Next != "" ||
		got != "[1561301001.85:sector:active:Education 1561301001.86:sector:active:Human health activities]" {
		t.Errorf("the city's children: %s (%+v)", got, c)
	}
	s.json("/v1/ids/1561301001.85/children", http.StatusOK, &c)
	if got := ids(c); got != "[1561301001.85.1:unit:active:Education Bureau]" {
		t.Errorf("the sector's children: %s", got)
	}
	objects := "[1561301001.85.1/dangling 1561301001.85.1/exam-2026 1561301001.85.1/loop-a 1561301001.85.1/loop-b 1561301001.85.1/no-url 1561301001.85.1/old-plate 1561301001.85.1/school-0042]"
	var all []string
	next := ""
	for page := 0; ; page++ {
		s.json("/v1/ids/1561301001.85.1/children?limit=3&after="+next, http.StatusOK, &c)
		for _, ch := range c.Children {
			all = append(all, ch.ID)
			if ch.Kind != "object" {
				t.Errorf("%s is a %s, want an object", ch.ID, ch.Kind)
			}
		}
		if c.Next == "" {
			break
		}
		if len(c.Children) != 3 || page > 3 {
			t.Fatalf("page %d: %d children, next %q", page, len(c.Children), c.Next)
		}
		next = c.Next
	}
	if fmt.Sprint(all) != objects {
		t.Errorf("the unit's children in pages of 3: %v, want %s", all, objects)
	}
	// From a sector's page into its objects: the city has none, so the
	// page after the last sector is empty.
	s.json("/v1/ids/1561301001/children?limit=1", http.StatusOK, &c)
	if ids(c) != "[1561301001.85:sector:active:Education]" || c.Next != "1561301001.85" {
		t.Errorf("a page of one: %s next %q", ids(c), c.Next)
	}
	s.json("/v1/ids/1561301001/children?after=1561301001.86", http.StatusOK, &c)
	if len(c.Children) != 0 || c.Next != "" {
		t.Errorf("after the last sector: %s next %q, want an empty last page", ids(c), c.Next)
	}
	s.problem("/v1/ids/1561301001.85.1/school-0042/children", http.StatusBadRequest, "invalid", "is an object")
	s.problem("/v1/ids/1561301001.87/children", http.StatusNotFound, CodeNotFound, "1561301001.87 is not registered")
	s.problem("/v1/ids/1561301001/children?limit=1001", http.StatusBadRequest, CodeBadRequest, "is not a number from 1 to 1000")
}
