from smplr.cli import main

main()
