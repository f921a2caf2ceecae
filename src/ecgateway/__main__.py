from ecgateway.cli import main

main()
