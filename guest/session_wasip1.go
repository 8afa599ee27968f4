//go:build wasip1

package guest

// wasmpoolSession is the session marker, abi.SessionMarker: a module that
// exports it keeps the session contract (replies flushed before every read
// of stdin), so a host runs it in one long-lived instance per kid. Every
// guest built with this package exports it; nobody calls it.
//
//go:wasmexport wasmpool_session
func wasmpoolSession() {}
