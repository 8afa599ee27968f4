package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{7}, 7}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median(nil) is not NaN")
	}
}

func TestNum(t *testing.T) {
	for _, c := range []struct {
		v    float64
		f    string
		want string
	}{{15500, "%.0f", "15,500"}, {1234567, "%.0f", "1,234,567"}, {999, "%.0f", "999"}, {3.14159, "%.2f", "3.14"}, {math.NaN(), "%.0f", "–"}} {
		if got := num(c.v, c.f); got != c.want {
			t.Errorf("num(%v, %q) = %q, want %q", c.v, c.f, got, c.want)
		}
	}
}

func testReport() *report {
	e := &env{runs: 3, tools: map[string]string{"parallel": "skipped: not installed"}}
	r := newReport(e)
	ok := &bcase{name: "a <b> & c", samples: [][]float64{{10}, {30}, {20}}}
	failed := &bcase{name: "f", err: errors.New("boom")}
	r.tables = append(r.tables, &table{title: "T", head: []string{"case", "v"}, rows: [][]string{{ok.name, cell(ok, 0, "%.0f")}, {failed.name, cell(failed, 0, "%.0f")}}})
	r.panels = append(r.panels, panel{title: "P <1>", unit: "ns", log: true, bars: []bar{{"wasmpool x", 20}, {"other", 15000}}})
	r.panels = append(r.panels, panel{title: "Q", unit: "MB/s", bars: []bar{{"y", 1}}})
	r.target("small", 1.5, 2, "%.1f×")
	r.target("big", 150, -200, "1/%.0f")
	r.target("none", math.NaN(), 2, "%.1f")
	r.failed(ok, failed)
	return r
}

func TestReportMarkdown(t *testing.T) {
	md := testReport().markdown()
	for _, want := range []string{"| a <b> & c | 20 |", "| f | failed |", "| small | 1.5× | **yes** |", "| big | 1/150 | **no** |", "| none | – | not measured |", "- f: boom", "parallel (not installed)"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestReportSVGIsXML(t *testing.T) {
	d := xml.NewDecoder(strings.NewReader(testReport().svg()))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestReportUpdateKeepsTheAnalysis(t *testing.T) {
	r := testReport()
	path := filepath.Join(t.TempDir(), "b.md")
	if err := r.update(path); err != nil { // a new file gets a skeleton
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	doc := "# Title\n\nbefore\n\n" + string(b[strings.Index(string(b), "<!-- bench:begin"):]) + "\nafter\n"
	os.WriteFile(path, []byte(doc), 0o644)
	r.tables[0].rows[0][1] = "42"
	if err := r.update(path); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	s := string(b)
	if !strings.HasPrefix(s, "# Title\n\nbefore\n\n<!-- bench:begin") || !strings.HasSuffix(s, "<!-- bench:end -->\n\nafter\n") || !strings.Contains(s, "| 42 |") || strings.Count(s, "bench:begin") != 1 {
		t.Errorf("update lost the text around the markers:\n%s", s)
	}
	os.WriteFile(path, []byte("no markers"), 0o644)
	if err := r.update(path); err == nil {
		t.Error("update of a file without markers did not fail")
	}
}

func TestUpperASCII(t *testing.T) {
	var all []byte
	for c := range 256 {
		all = append(all, byte(c))
	}
	for _, s := range [][]byte{all, []byte("hello, World! az AZ `{ @["), []byte("abc")} {
		for off := range 9 {
			b := append([]byte(nil), s[off%len(s):]...)
			want := make([]byte, len(b))
			for i, c := range b {
				if 'a' <= c && c <= 'z' {
					c -= 'a' - 'A'
				}
				want[i] = c
			}
			upperASCII(b)
			if !bytes.Equal(b, want) {
				t.Fatalf("upperASCII(%q) = %q, want %q", s[off%len(s):], b, want)
			}
		}
	}
}
