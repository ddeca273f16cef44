//go:build !race

package archive

// raceEnabled makes heavy tests smaller under the race detector.
const raceEnabled = false
