package autodiff

// The last init of the package: every rule file's init has run.
func init() { install() }
