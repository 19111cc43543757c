// Entry point of the bundle. On the board it runs from Storage at every boot.
import { start } from './app';

start();
