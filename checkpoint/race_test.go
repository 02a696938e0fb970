//go:build race

package checkpoint

// raceEnabled is true under the race detector.
const raceEnabled = true
