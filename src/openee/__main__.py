from openee.cli import main

raise SystemExit(main())
