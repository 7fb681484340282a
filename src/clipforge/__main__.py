from clipforge.cli import main

main()
