package scan

import "syscall"

// mapPopulate has mapRange map a window's pages in one call, from the page
// cache, instead of faulting them in a few at a time as the line pass
// reaches them: 5% of the time on a raw audit log.
const mapPopulate = syscall.MAP_POPULATE
