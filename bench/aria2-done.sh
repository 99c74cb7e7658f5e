#!/bin/sh
# aria2c runs this when a BitTorrent download is complete (before seeding): the bench reads the line.
echo "ARIA2_BT_DONE $1"
