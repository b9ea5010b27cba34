"""One module per rule. Families (the hundreds of the code):

* MFX0xx registration & packaging (MFX000 is a file that does not parse)
* MFX1xx Deployer API & CLI
* MFX2xx task command & environment
* MFX3xx compute backend
* MFX4xx security
"""
