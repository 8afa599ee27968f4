package host

import "fmt"

// lostSlots leaves out, for the rest of a run, the slots of a Remote
// whose kids keep dying before they finish anything: a machine that
// cannot be reached (its sshd gone, the host down, a job step refused),
// while the other kids carry on. Kids on this machine are never left
// out: one that cannot start is a guest that cannot, and the run's own
// count of barren kids gives that up.
type lostSlots struct {
	cfg    Config
	barren map[int]int // slot → its kids in a row that died barren
	lost   map[int]bool
}

// lostAfter is how many kids of a remote slot in a row may die before
// finishing anything before the slot is left out.
const lostAfter = 2

func newLostSlots(cfg Config) lostSlots {
	return lostSlots{cfg: cfg, barren: map[int]int{}, lost: map[int]bool{}}
}

// died counts a kid of slot that died; barren: before it finished
// anything. When that leaves the slot out, it says so on Config.Stderr.
// It reports whether the death is the slot's to count: a remote one that
// died barren, which the run's own count of barren kids leaves alone (a
// guest that cannot start there leaves every remote slot out, and then
// the run ends).
func (l *lostSlots) died(slot int, barren bool, why error) (counted bool) {
	r := l.cfg.remoteOf(slot)
	if !barren || r == nil {
		delete(l.barren, slot)
		return false
	}
	if l.barren[slot]++; l.barren[slot] < lostAfter {
		return true
	}
	l.lost[slot] = true
	fmt.Fprintf(l.cfg.Stderr, "kid %d: %d kids in a row on %s died before finishing anything (the last: %v): no more start there in this run\n", slot, lostAfter, r, why)
	return true
}

// finished notes that a kid of slot finished something.
func (l *lostSlots) finished(slot int) { delete(l.barren, slot) }

// isLost reports whether slot is left out.
func (l *lostSlots) isLost(slot int) bool { return l.lost[slot] }

// all reports whether every one of n slots is left out.
func (l *lostSlots) all(n int) bool { return len(l.lost) == n }
