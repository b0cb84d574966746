import Engine

// The BLAS kernel must be chosen before the first BLAS call; this may re-execute the program.
BLASKernel.selectBeforeFirstUse()
Repro.main()
