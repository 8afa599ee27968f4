//go:build linux

package host

import (
	"bytes"
	"fmt"
	"iter"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// drain takes every request from an inbox the way the loop does: it
// takes what is ready and, when nothing is, waits on the wake pipe.
func drain(t *testing.T, in *inbox, wake int, each func(req []byte)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		req, _, ok, eof := in.next()
		switch {
		case eof:
			return
		case ok:
			each(req)
		default:
			fds := []unix.PollFd{{Fd: int32(wake), Events: unix.POLLIN}}
			unix.Poll(fds, 1000)
			var buf [64]byte
			unix.Read(wake, buf[:])
		}
	}
	t.Fatal("the inbox did not deliver every request in time")
}

func wakePipe(t *testing.T) [2]int {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p
}

// TestInboxDeliversEveryRequestInOrder sends requests of sizes from empty
// to twice the inbox's bound.
func TestInboxDeliversEveryRequestInOrder(t *testing.T) {
	sizes := []int{0, 1, 7, 100, nudgeBytes - 1, nudgeBytes, inboxBytes - 1, inboxBytes, 2 * inboxBytes}
	want := func(i int) []byte {
		return bytes.Repeat([]byte{byte(i)}, sizes[i%len(sizes)]+i%3)
	}
	const n = 3_000
	requests := func(yield func([]byte) bool) {
		for i := range n {
			if !yield(want(i)) {
				return
			}
		}
	}
	wake := wakePipe(t)
	in := newInbox(records(requests), wake[1])
	defer in.close()
	got := 0
	drain(t, in, wake[0], func(req []byte) {
		if !bytes.Equal(req, want(got)) {
			t.Fatalf("request %d: %d bytes, want %d", got, len(req), len(want(got)))
		}
		got++
	})
	if got != n {
		t.Fatalf("%d requests, want %d", got, n)
	}
}

// TestInboxConversation: a source that yields one request and then waits
// for its answer before yielding the next must see each request reach the
// loop; a request held back for batching would hang the conversation.
func TestInboxConversation(t *testing.T) {
	answered := make(chan int)
	var requests iter.Seq[[]byte] = func(yield func([]byte) bool) {
		for i := range 200 {
			if !yield(fmt.Appendf(nil, "%d", i)) {
				return
			}
			select {
			case got := <-answered:
				if got != i {
					panic(fmt.Sprintf("answer %d to request %d", got, i))
				}
			case <-time.After(10 * time.Second):
				panic(fmt.Sprintf("request %d never reached the loop", i))
			}
		}
	}
	wake := wakePipe(t)
	in := newInbox(records(requests), wake[1])
	defer in.close()
	n := 0
	drain(t, in, wake[0], func(req []byte) {
		if string(req) != fmt.Sprint(n) {
			t.Fatalf("got %q, want %d", req, n)
		}
		answered <- n
		n++
	})
	if n != 200 {
		t.Fatalf("%d requests, want 200", n)
	}
}

// TestInboxCloseStopsTheProducer: a producer with nobody reading stops at
// the inbox's bound; after close it returns, and the source is asked for
// no more.
func TestInboxCloseStopsTheProducer(t *testing.T) {
	var yielded atomic.Int64
	stopped := make(chan struct{})
	requests := func(yield func([]byte) bool) {
		defer close(stopped)
		for yield(make([]byte, 1000)) {
			yielded.Add(1)
		}
	}
	wake := wakePipe(t)
	in := newInbox(records(requests), wake[1])
	time.Sleep(50 * time.Millisecond) // the producer fills its chunks and waits
	if limit := inboxBytes / 1000; yielded.Load() > int64(limit+1) {
		t.Errorf("%d requests taken with nobody reading, want at most %d", yielded.Load(), limit+1)
	}
	in.close()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the producer did not stop after close")
	}
}
