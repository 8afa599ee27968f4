package main

import "testing"

func TestFitWidth(t *testing.T) {
	for _, tc := range []struct {
		line string
		cols int
		want string
	}{
		{"abcdef", 0, "abcdef"}, // width unknown
		{"abcdef", 7, "abcdef"},
		{"abcdef", 6, "abcde"}, // the last column stays free: no wrap
		{"a · b · c", 5, "a · "},
		{"abc", 1, "abc"},
	} {
		if got := fitWidth(tc.line, tc.cols); got != tc.want {
			t.Errorf("fitWidth(%q, %d) = %q, want %q", tc.line, tc.cols, got, tc.want)
		}
	}
}
