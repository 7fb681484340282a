from clipforge.client.cli import main

main()
