//go:build !unix

package cli

import "io"

// terminalWidth is the AWS CLI's width where it cannot ask the terminal.
func terminalWidth(io.Writer) int { return 80 }
