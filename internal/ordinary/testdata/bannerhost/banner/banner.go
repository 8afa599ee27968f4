// Package banner prints a banner to stdout when it initializes, as some
// libraries do: in a kid, that write must not reach the replies.
package banner

import (
	"fmt"
	"os"
)

// Text is what the banner says.
const Text = "BANNER from package banner's init"

func init() {
	fmt.Println(Text)
	os.Stdout.WriteString(Text + " (again, by os.Stdout)\n")
}
